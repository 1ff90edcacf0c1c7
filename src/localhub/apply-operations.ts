/** Turns a commit's operations into the next snapshot, storing regular file bytes as it goes. */
import { lfsEntry, type BlobStore } from "./blob-store.js";
import { HubError, badRequest, entryNotFound } from "./hub-error.js";
import { checkFilePath } from "./names.js";
import type { CommitOperation, FileEntry, Snapshot } from "./types.js";

/** Regular files this large must go through LFS, as on the Hub. */
export const MAX_REGULAR_FILE_BYTES = 10 * 1024 * 1024;

/** Where a commit goes, and which LFS objects that repository may reference. */
export interface CommitScope {
  repo: string;
  revision: string;
  hasLfs: (oid: string) => Promise<boolean>;
}

export async function applyOperations(
  base: Snapshot,
  operations: CommitOperation[],
  blobs: BlobStore,
  where: CommitScope,
): Promise<Snapshot> {
  // A Map, so that paths such as `__proto__` are plain keys.
  const next = new Map(Object.entries(base));
  for (const op of operations) {
    checkFilePath(op.kind === "deleteFolder" ? op.path.replace(/\/+$/, "") : op.path);
    switch (op.kind) {
      case "put":
        if (op.content.byteLength >= MAX_REGULAR_FILE_BYTES) {
          throw badRequest(`${op.path} is ${op.content.byteLength} bytes: files over 10 MiB must use LFS`);
        }
        next.set(op.path, await blobs.putRegular(op.content));
        break;
      case "lfs":
        next.set(op.path, await lfsFileEntry(op, blobs, where));
        break;
      case "delete":
        if (!next.delete(op.path)) throw entryNotFound(where.repo, op.path, where.revision);
        break;
      case "deleteFolder":
        deleteFolder(next, op.path, where);
        break;
    }
  }
  return Object.fromEntries(next);
}

function deleteFolder(
  snapshot: Map<string, FileEntry>,
  folder: string,
  where: { repo: string; revision: string },
): void {
  const prefix = folder.endsWith("/") ? folder : `${folder}/`;
  const doomed = [...snapshot.keys()].filter((path) => path.startsWith(prefix));
  if (doomed.length === 0) throw entryNotFound(where.repo, folder, where.revision);
  for (const path of doomed) snapshot.delete(path);
}

/**
 * The entry of an `lfsFile` line. The object must be stored and belong to this repository (see
 * repo-lfs.ts); an object stored only for another repo gets the same answer as a missing one, so
 * the answer tells nothing about other repos.
 */
async function lfsFileEntry(
  op: { path: string; oid: string; size: number },
  blobs: BlobStore,
  where: CommitScope,
): Promise<FileEntry> {
  const stored = await blobs.lfsSize(op.oid);
  if (stored === undefined || !(await where.hasLfs(op.oid))) {
    throw new HubError(
      422,
      `LFS object sha256:${op.oid} for ${op.path} was never uploaded to ${where.repo}; upload it through the LFS batch API before committing`,
    );
  }
  if (stored !== op.size) {
    throw badRequest(`LFS object sha256:${op.oid} for ${op.path} has ${stored} bytes, not ${op.size}`);
  }
  return lfsEntry(op.oid, op.size);
}
