/**
 * Model references as mergekit writes them: a Hub repo id (`org/name`, legacy `gpt2`), optionally
 * pinned with `@revision`, or a local folder. Parsing is syntax only, plus one `stat` to tell a
 * folder that happens to look like `org/name` from a Hub repo; nothing is downloaded here.
 */
import { statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { HubmergeError } from "./errors.js";

export interface ModelRef {
  /** Exactly as written in the manifest. */
  raw: string;
  kind: "hub" | "local";
  /** `org/name` (or a legacy bare `name`) for Hub references. */
  repo?: string;
  /** Branch, tag or commit after `@`, for Hub references. */
  revision?: string;
  /** Absolute folder, resolved against the manifest's folder, for local references (written relative). */
  path?: string;
  /** A PEFT LoRA adapter applied to this model while reading it (`model+adapter`). */
  lora?: ModelRef;
}

const ACCEPTED_FORMS =
  "a Hub repo id (`org/name`), a pinned one (`org/name@revision`) or a local folder relative to the manifest (`./path`, `../path`)";
const REPO_PART_MAX = 96;
const REVISION_MAX = 255;

function refError(message: string, hint: string = `Write ${ACCEPTED_FORMS}.`): HubmergeError {
  return new HubmergeError("E_MANIFEST", message, { hint });
}

/** Why `part` is not a valid half of a Hub repo id, or undefined when it is. */
function repoPartProblem(part: string): string | undefined {
  if (part.length === 0) return "has an empty part";
  if (part.length > REPO_PART_MAX) return `has a part longer than ${REPO_PART_MAX} characters`;
  if (!/^[A-Za-z0-9._-]+$/.test(part)) return "may only contain letters, digits, `-`, `_` and `.`";
  if (part.includes("--") || part.includes("..")) return "may not contain `--` or `..`";
  if (/^[-.]|[-.]$/.test(part)) return "may not start or end with `-` or `.`";
  return undefined;
}

/** Why `id` is not a Hub repo id (`org/name` or `name`), or undefined when it is. */
export function repoIdProblem(id: string, requireOrg = false): string | undefined {
  const parts = id.split("/");
  if (parts.length > 2) return "has more than one `/`";
  if (requireOrg && parts.length !== 2) return "needs an owner: `org/name`";
  for (const part of parts) {
    const problem = repoPartProblem(part);
    if (problem !== undefined) return problem;
  }
  if (id.endsWith(".git")) return "may not end with `.git`";
  return undefined;
}

function revisionProblem(revision: string): string | undefined {
  if (revision.length === 0) return "is empty after `@`";
  if (revision.length > REVISION_MAX) return `is longer than ${REVISION_MAX} characters`;
  if (!/^[A-Za-z0-9._/-]+$/.test(revision)) return "may only contain letters, digits, `-`, `_`, `.` and `/`";
  if (revision.includes("..")) return "may not contain `..`";
  return undefined;
}

function hasLocalPrefix(raw: string): boolean {
  return raw === "." || raw === ".." || /^(\.\/|\.\.\/|\/|~)/.test(raw);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `C:\…`, `C:/…` or `\\server\share`: a Windows path, which names nothing on this machine's tree. */
function isWindowsAbsolute(raw: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(raw) || raw.startsWith("\\\\");
}

const FOREIGN_PATH_HINT =
  "It looks like a local path from another machine (mergekit configs often keep their author's paths): " +
  "reference the model by its Hub repo id (`org/name`), or put the folder next to the manifest and write `./name`.";

/**
 * Absolute and `~` paths are refused: a manifest that names them reads whatever that path holds
 * on the machine that runs it (a CI runner's files, another user's home), and it runs nowhere
 * else. A path relative to the manifest says the same thing and travels with the repository.
 */
function refuseAbsolute(raw: string, manifestDir: string): never {
  if (raw.startsWith("~")) {
    throw refError(
      `Local model folder "${raw}" starts with \`~\`: home-relative paths are not accepted.`,
      "Write the folder relative to the manifest (e.g. `./models/name` or `../models/name`).",
    );
  }
  if (isWindowsAbsolute(raw)) {
    throw refError(`Local model folder "${raw}" is an absolute Windows path.`, FOREIGN_PATH_HINT);
  }
  const relativePath = relative(manifestDir, raw).split(sep).join("/");
  const hint = isDirectory(raw)
    ? `Write it relative to the manifest: \`${relativePath.startsWith(".") ? relativePath : `./${relativePath}`}\`.`
    : FOREIGN_PATH_HINT;
  throw refError(
    `Local model folder "${raw}" is an absolute path; only paths relative to the manifest are accepted.`,
    hint,
  );
}

function parseLocal(raw: string, manifestDir: string): ModelRef {
  if (raw.includes("@")) {
    throw refError(
      `Local model folder "${raw}" has an \`@\`: a local folder has no revisions.`,
      "Remove the `@…` part, or pin the model by pushing it to the Hub and writing `org/name@revision`.",
    );
  }
  if (raw.startsWith("~") || isAbsolute(raw) || isWindowsAbsolute(raw)) refuseAbsolute(raw, manifestDir);
  return { raw, kind: "local", path: resolve(manifestDir, raw) };
}

function parseHub(raw: string): ModelRef {
  const at = raw.split("@");
  if (at.length > 2) throw refError(`Model reference "${raw}" has more than one \`@\`.`);
  const [repo = "", revision] = at;
  const repoProblem = repoIdProblem(repo);
  if (repoProblem !== undefined) {
    throw refError(`Model reference "${raw}" is not a Hub repo id: it ${repoProblem}.`);
  }
  if (revision !== undefined) {
    const problem = revisionProblem(revision);
    if (problem !== undefined) {
      throw refError(
        `Model reference "${raw}" has a bad revision: it ${problem}.`,
        "Write a branch, tag or commit sha after `@`, e.g. `org/name@main` or `org/name@4f1c2e9`.",
      );
    }
    return { raw, kind: "hub", repo, revision };
  }
  return { raw, kind: "hub", repo };
}

/** Parse a model reference; throws E_MANIFEST (without a position: the caller adds it). */
export function parseModelRef(raw: string, manifestDir: string): ModelRef {
  if (raw.trim().length === 0) throw refError("Model reference is empty.");
  if (raw !== raw.trim()) throw refError(`Model reference "${raw}" has leading or trailing spaces.`);
  if (raw.includes("+")) return parseWithLora(raw, manifestDir);
  if (/^[a-z]+:\/\//i.test(raw)) {
    throw refError(
      `Model reference "${raw}" is a URL.`,
      "Write just the repo id, e.g. `org/name` for https://huggingface.co/org/name.",
    );
  }
  if (hasLocalPrefix(raw) || isWindowsAbsolute(raw)) return parseLocal(raw, manifestDir);
  if (isDirectory(resolve(manifestDir, raw))) return parseLocal(raw, manifestDir);
  return parseHub(raw);
}

/** `model+adapter` (mergekit's LoRA syntax): each half is a Hub repo (with `@rev`) or a folder. */
function parseWithLora(raw: string, manifestDir: string): ModelRef {
  const parts = raw.split("+");
  if (parts.length !== 2 || parts.some((part) => part.length === 0)) {
    throw refError(
      `Model reference "${raw}" must be \`model+adapter\`: one model and one LoRA adapter.`,
      "Write e.g. `org/base+org/lora-adapter`, or `./base+./adapter` for folders.",
    );
  }
  const model = parseModelRef(parts[0]!, manifestDir);
  const lora = parseModelRef(parts[1]!, manifestDir);
  return { ...model, raw, lora };
}

/** The canonical text of a reference: `org/name[@rev]` for the Hub, the path as written for folders. */
export function formatModelRef(ref: ModelRef): string {
  if (ref.lora) return ref.raw;
  if (ref.kind === "local") return ref.raw;
  return ref.revision === undefined ? `${ref.repo}` : `${ref.repo}@${ref.revision}`;
}

/** The model a `model+adapter` reference starts from (the reference itself when it has no adapter). */
export function withoutLora(ref: ModelRef): ModelRef {
  if (!ref.lora) return ref;
  const { lora, ...model } = ref;
  return { ...model, raw: ref.raw.slice(0, ref.raw.length - lora.raw.length - 1) };
}

/** Whether two references name the same model at the same revision (mergekit's equality). */
export function sameModelRef(a: ModelRef, b: ModelRef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.lora || b.lora)
    return (
      a.lora !== undefined &&
      b.lora !== undefined &&
      sameModelRef(a.lora, b.lora) &&
      sameModelRef(withoutLora(a), withoutLora(b))
    );
  if (a.kind === "local") return a.path === b.path;
  return a.repo === b.repo && a.revision === b.revision;
}

/** One key per distinct model (what sameModelRef compares), for maps of loaded models. */
export function modelKey(ref: ModelRef): string {
  if (ref.lora) return `${modelKey(withoutLora(ref))}+${modelKey(ref.lora)}`;
  return ref.kind === "local" ? `local:${ref.path}` : `hub:${ref.repo}@${ref.revision ?? ""}`;
}
