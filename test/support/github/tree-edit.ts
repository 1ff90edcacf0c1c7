/**
 * Trees as flat path maps: flatten a tree object, edit paths (add, replace, delete, graft a
 * subtree), and write the nested tree objects back. This is how `POST git/trees` with
 * `base_tree` and slash-separated paths behaves on GitHub.
 */
import type { GitStore, TreeEntry, TreeEntryType, TreeMode } from "./git-store.js";

/** A leaf of a flattened tree: a blob or a submodule commit. */
export interface Leaf {
  mode: TreeMode;
  type: Exclude<TreeEntryType, "tree">;
  sha: string;
}

export type FlatTree = Map<string, Leaf>;

/** One entry of a recursive listing, in git's pre-order (a tree before what it holds). */
export interface WalkEntry {
  path: string;
  entry: TreeEntry;
}

export function walkTree(store: GitStore, treeSha: string, prefix = ""): WalkEntry[] {
  const out: WalkEntry[] = [];
  for (const entry of store.tree(treeSha) ?? []) {
    const path = prefix + entry.name;
    out.push({ path, entry });
    if (entry.type === "tree") out.push(...walkTree(store, entry.sha, `${path}/`));
  }
  return out;
}

export function flattenTree(store: GitStore, treeSha: string | undefined): FlatTree {
  const flat: FlatTree = new Map();
  if (treeSha === undefined) return flat;
  for (const { path, entry } of walkTree(store, treeSha)) {
    if (entry.type !== "tree") flat.set(path, { mode: entry.mode, type: entry.type, sha: entry.sha });
  }
  return flat;
}

/** Removes `path` and everything under it (a file and a folder may not share a path). */
export function removePath(flat: FlatTree, path: string): void {
  flat.delete(path);
  for (const key of [...flat.keys()]) if (key.startsWith(`${path}/`)) flat.delete(key);
}

/** Sets a leaf, first clearing a folder at that path and any file where a parent folder goes. */
export function setLeaf(flat: FlatTree, path: string, leaf: Leaf): void {
  removePath(flat, path);
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) flat.delete(segments.slice(0, i).join("/"));
  flat.set(path, leaf);
}

/** Replaces whatever is at `path` with the contents of an existing tree object. */
export function graftTree(store: GitStore, flat: FlatTree, path: string, treeSha: string): void {
  removePath(flat, path);
  for (const [sub, leaf] of flattenTree(store, treeSha)) setLeaf(flat, `${path}/${sub}`, leaf);
}

/** Writes the nested tree objects for a flat map and returns the root tree's sha. */
export function writeTree(store: GitStore, flat: FlatTree): string {
  const files: TreeEntry[] = [];
  const folders = new Map<string, FlatTree>();
  for (const [path, leaf] of flat) {
    const slash = path.indexOf("/");
    if (slash < 0) {
      files.push({ name: path, ...leaf });
      continue;
    }
    const folder = path.slice(0, slash);
    const inner = folders.get(folder) ?? new Map();
    inner.set(path.slice(slash + 1), leaf);
    folders.set(folder, inner);
  }
  const subtrees: TreeEntry[] = [...folders].map(([name, inner]) => ({
    name,
    mode: "040000",
    type: "tree",
    sha: writeTree(store, inner),
  }));
  return store.putTree([...files, ...subtrees]);
}

/** The entry at `path` inside a tree (the root itself for ""), or undefined. */
export function lookupPath(store: GitStore, treeSha: string, path: string): TreeEntry | undefined {
  let current: TreeEntry = { name: "", mode: "040000", type: "tree", sha: treeSha };
  if (path === "") return current;
  for (const segment of path.split("/")) {
    if (current.type !== "tree") return undefined;
    const next = store.tree(current.sha)?.find((e) => e.name === segment);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** Files added, removed and modified from one tree to another (either may be absent). */
export function diffTrees(
  store: GitStore,
  from: string | undefined,
  to: string | undefined,
): { added: string[]; removed: string[]; modified: string[] } {
  const before = flattenTree(store, from);
  const after = flattenTree(store, to);
  const added = [...after.keys()].filter((p) => !before.has(p));
  const removed = [...before.keys()].filter((p) => !after.has(p));
  const modified = [...after].filter(([p, leaf]) => {
    const old = before.get(p);
    return old !== undefined && (old.sha !== leaf.sha || old.mode !== leaf.mode);
  });
  return { added: added.sort(), removed: removed.sort(), modified: modified.map(([p]) => p).sort() };
}

/** A path GitHub would accept in a tree: relative, no empty, `.` or `..` segments. */
export function isValidTreePath(path: string): boolean {
  if (path === "" || path.includes("\0")) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== ".." && s !== ".git");
}
