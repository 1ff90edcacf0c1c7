/** Validation of the names clients send: repo ids, branch names, file paths. */
import { HubError, badRequest } from "./hub-error.js";
import { SHA1_HEX } from "./git-hash.js";

const NAME_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;

/**
 * Characters no name may hold: C0/C1 controls and DEL (newlines forge log lines and headers),
 * the Unicode line separators, bidi controls that make `evil\u202Efdp.exe` read as `evil.pdf`
 * (U+061C, U+200E/F, U+202A–E, U+2066–9), and lone surrogates (not valid UTF-8 on disk).
 */
const FORBIDDEN_CHARACTERS =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\0-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

/** Checks `namespace/name`; rejects anything that could escape the storage folder. */
export function checkRepoId(id: string): { namespace: string; name: string } {
  const parts = id.split("/");
  const [namespace, name] = parts;
  const valid =
    parts.length === 2 &&
    namespace !== undefined &&
    name !== undefined &&
    NAME_PART.test(namespace) &&
    NAME_PART.test(name) &&
    !id.includes("..") &&
    !name.endsWith(".git");
  if (!valid) {
    throw new HubError(
      400,
      `invalid repo id "${id}": use namespace/name with letters, digits, '-', '_', '.'`,
    );
  }
  return { namespace, name };
}

/** True when `part` could be a repository folder name (what checkRepoId accepts per part). */
export function isRepoNamePart(part: string): boolean {
  return NAME_PART.test(part) && !part.includes("..");
}

/**
 * Branch names follow git's check-ref-format rules for a branch: no `..`, `@{`, `//`, `\`,
 * spaces, controls or `~^:?*[`; no component that starts with `.` or ends with `.lock`; no
 * leading or trailing `/`, no trailing `.`; not `@`. Beyond git: never `HEAD`, a bare sha, or a
 * name under `refs/` (`refs/heads/main` would shadow `main`, `refs/pr/N` belong to pull requests).
 */
export function checkBranchName(branch: string): void {
  const components = branch.split("/");
  const valid =
    branch.length > 0 &&
    branch.length <= 200 &&
    branch !== "HEAD" &&
    branch !== "@" &&
    !SHA1_HEX.test(branch) &&
    !/^refs\//i.test(branch) &&
    !branch.includes("..") &&
    !branch.includes("@{") &&
    !branch.endsWith(".") &&
    !/[ ~^:?*[\\]/.test(branch) &&
    !FORBIDDEN_CHARACTERS.test(branch) &&
    components.every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
  if (!valid) throw badRequest(`invalid branch name ${quoteName(branch)}`);
}

/**
 * Repository-relative file paths: no empty, `.` or `..` segments, no leading slash, no backslash
 * (a separator on Windows: `..\..\x` climbs out there), no `.git` folder at any depth in any case
 * (`.GIT`, and `.git.` which Windows trims to `.git`), no forbidden characters.
 */
export function checkFilePath(path: string): void {
  const segments = path.split("/");
  const valid =
    path.length > 0 &&
    path.length <= 1000 &&
    !path.includes("\\") &&
    !FORBIDDEN_CHARACTERS.test(path) &&
    segments.every(
      (segment) =>
        segment !== "" &&
        segment !== "." &&
        segment !== ".." &&
        segment.replace(/[. ]+$/, "").toLowerCase() !== ".git",
    );
  if (!valid) throw badRequest(`invalid file path ${quoteName(path)}`);
}

/** A name quoted for an error message, with every forbidden character shown as an escape. */
export function quoteName(name: string): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  return JSON.stringify(shown).replace(
    new RegExp(FORBIDDEN_CHARACTERS.source, "gu"),
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}
