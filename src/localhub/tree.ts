/** File and folder listings of a snapshot, in the shape of the Hub's tree and paths-info APIs. */
import { createHash } from "node:crypto";
import { own } from "./own.js";
import type { LfsInfo, Snapshot } from "./types.js";

export interface TreeEntry {
  type: "file" | "directory";
  oid: string;
  size: number;
  path: string;
  lfs?: LfsInfo;
  lastCommit?: { id: string; title: string; date: string };
}

/** The file or folder at `path`, or undefined. */
export function entryAt(snapshot: Snapshot, path: string): TreeEntry | undefined {
  const file = own(snapshot, path);
  if (file) return { type: "file", oid: file.oid, size: file.size, path, ...(file.lfs && { lfs: file.lfs }) };
  return isFolder(snapshot, path) ? folderEntry(snapshot, path) : undefined;
}

export function isFolder(snapshot: Snapshot, path: string): boolean {
  if (path === "") return true;
  const prefix = `${path}/`;
  return Object.keys(snapshot).some((file) => file.startsWith(prefix));
}

/**
 * The entries under `folder` ("" = root): its direct children, or with `recursive` every file
 * and folder below it. Sorted by path, each folder before its contents.
 */
export function listFolder(snapshot: Snapshot, folder: string, recursive: boolean): TreeEntry[] {
  const prefix = folder === "" ? "" : `${folder}/`;
  const paths = new Set<string>();
  for (const file of Object.keys(snapshot)) {
    if (!file.startsWith(prefix)) continue;
    const rest = file.slice(prefix.length).split("/");
    const depth = recursive ? rest.length : 1;
    for (let i = 1; i <= depth; i++) paths.add(prefix + rest.slice(0, i).join("/"));
  }
  return [...paths]
    .sort()
    .map((path) => entryAt(snapshot, path))
    .filter((entry): entry is TreeEntry => entry !== undefined);
}

/** A folder's id: a hash of what is under it, so it changes exactly when its contents do. */
function folderEntry(snapshot: Snapshot, path: string): TreeEntry {
  return { type: "directory", oid: contentSignature(snapshot, path), size: 0, path };
}

/** A string that differs between two snapshots iff the file or folder at `path` differs. */
export function contentSignature(snapshot: Snapshot, path: string): string {
  const file = own(snapshot, path);
  if (file) return file.oid;
  const prefix = path === "" ? "" : `${path}/`;
  const hash = createHash("sha1");
  for (const key of Object.keys(snapshot).sort()) {
    if (key.startsWith(prefix)) hash.update(`${key}\0${snapshot[key]?.oid}\n`);
  }
  return hash.digest("hex");
}
