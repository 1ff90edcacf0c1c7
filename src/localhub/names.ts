/** Validation of the names clients send: repo ids, branch names, file paths. */
import { HubError, badRequest } from "./hub-error.js";
import { SHA1_HEX } from "./git-hash.js";

const NAME_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;

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

/** Branch names: git-like, may contain slashes (`refs/pr/1`), never a bare sha or `HEAD`. */
export function checkBranchName(branch: string): void {
  const valid =
    branch.length > 0 &&
    branch.length <= 200 &&
    branch !== "HEAD" &&
    !SHA1_HEX.test(branch) &&
    !branch.includes("..") &&
    !branch.startsWith("/") &&
    !branch.endsWith("/") &&
    !/[\0-\x20\x7f~^:?*[\\]/.test(branch);
  if (!valid) throw badRequest(`invalid branch name "${branch}"`);
}

/** Repository-relative file paths: no empty, `.` or `..` segments, no leading slash. */
export function checkFilePath(path: string): void {
  const segments = path.split("/");
  const valid =
    path.length > 0 &&
    path.length <= 1000 &&
    !path.includes("\0") &&
    segments.every((segment) => segment !== "" && segment !== "." && segment !== "..") &&
    segments[0] !== ".git";
  if (!valid) throw badRequest(`invalid file path "${path}"`);
}
