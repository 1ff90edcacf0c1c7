/** Walking a branch's history: commit lists and each path's last commit. */
import type { RepoStore } from "./repo-store.js";
import { contentSignature } from "./tree.js";
import type { CommitRecord } from "./types.js";

/** How far back `lastCommitOf` looks before giving up on a path. */
const LAST_COMMIT_SEARCH_DEPTH = 1000;

/** `head` and its first parents, newest first. */
export async function firstParentHistory(
  store: RepoStore,
  repo: string,
  head: CommitRecord,
  limit = Number.POSITIVE_INFINITY,
): Promise<CommitRecord[]> {
  const history: CommitRecord[] = [];
  let current: CommitRecord | undefined = head;
  while (current && history.length < limit) {
    history.push(current);
    const parent: string | undefined = current.parents[0];
    current = parent === undefined ? undefined : await store.readCommit(repo, parent);
  }
  return history;
}

/** For each path, the newest commit (from `head` back) that changed the file or folder there. */
export async function lastCommitOf(
  store: RepoStore,
  repo: string,
  head: CommitRecord,
  paths: string[],
): Promise<Map<string, CommitRecord>> {
  const found = new Map<string, CommitRecord>();
  let pending = paths;
  let current: CommitRecord | undefined = head;
  for (let depth = 0; current && pending.length > 0 && depth < LAST_COMMIT_SEARCH_DEPTH; depth++) {
    const commit: CommitRecord = current;
    const parentId = commit.parents[0];
    const parent: CommitRecord | undefined =
      parentId === undefined ? undefined : await store.readCommit(repo, parentId);
    const changedHere = pending.filter(
      (path) => !parent || contentSignature(commit.files, path) !== contentSignature(parent.files, path),
    );
    for (const path of changedHere) found.set(path, commit);
    pending = pending.filter((path) => !found.has(path));
    current = parent;
  }
  return found;
}
