/**
 * A repository's git objects, serialized and hashed exactly as git does (`<type> <len>\0<body>`),
 * so blob, tree and commit shas equal the ones real git would compute for the same content.
 */
import { createHash } from "node:crypto";

export type TreeEntryType = "blob" | "tree" | "commit";

/** Modes as the REST API spells them (trees as `040000`, not git's `40000`). */
export const TREE_MODES = ["100644", "100755", "040000", "160000", "120000"] as const;
export type TreeMode = (typeof TREE_MODES)[number];

export interface TreeEntry {
  name: string;
  mode: TreeMode;
  type: TreeEntryType;
  sha: string;
}

export interface Signature {
  name: string;
  email: string;
  /** ISO 8601, seconds precision, UTC (`2026-01-01T00:00:00Z`). */
  date: string;
}

export interface CommitObject {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

export type GitObject =
  | { type: "blob"; data: Buffer }
  | { type: "tree"; entries: TreeEntry[] }
  | { type: "commit"; commit: CommitObject };

export const SHA1_HEX = /^[0-9a-f]{40}$/;

function hashObject(type: string, body: Buffer): string {
  return createHash("sha1").update(`${type} ${body.byteLength}\0`).update(body).digest("hex");
}

/** Git orders tree entries by name bytes, comparing a subtree's name as if it ended in `/`. */
function gitOrderKey(entry: TreeEntry): string {
  return entry.type === "tree" ? `${entry.name}/` : entry.name;
}

export function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  return [...entries].sort((a, b) =>
    Buffer.compare(Buffer.from(gitOrderKey(a)), Buffer.from(gitOrderKey(b))),
  );
}

function serializeTree(entries: TreeEntry[]): Buffer {
  const parts = entries.map((entry) => {
    const mode = entry.mode === "040000" ? "40000" : entry.mode;
    return Buffer.concat([Buffer.from(`${mode} ${entry.name}\0`), Buffer.from(entry.sha, "hex")]);
  });
  return Buffer.concat(parts);
}

function serializeSignature(who: Signature): string {
  const seconds = Math.floor(Date.parse(who.date) / 1000);
  return `${who.name} <${who.email}> ${seconds} +0000`;
}

function serializeCommit(commit: CommitObject): Buffer {
  const lines = [`tree ${commit.tree}`, ...commit.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${serializeSignature(commit.author)}`);
  lines.push(`committer ${serializeSignature(commit.committer)}`);
  return Buffer.from(`${lines.join("\n")}\n\n${commit.message}`);
}

export class GitStore {
  private readonly objects = new Map<string, GitObject>();

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  blob(sha: string): Buffer | undefined {
    const object = this.objects.get(sha);
    return object?.type === "blob" ? object.data : undefined;
  }

  tree(sha: string): TreeEntry[] | undefined {
    const object = this.objects.get(sha);
    return object?.type === "tree" ? object.entries : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const object = this.objects.get(sha);
    return object?.type === "commit" ? object.commit : undefined;
  }

  putBlob(data: Uint8Array): string {
    const buffer = Buffer.from(data);
    const sha = hashObject("blob", buffer);
    this.objects.set(sha, { type: "blob", data: buffer });
    return sha;
  }

  /** Entries with duplicate names are a caller bug; the last one wins. */
  putTree(entries: TreeEntry[]): string {
    const unique = [...new Map(entries.map((e) => [e.name, e])).values()];
    const sorted = sortTreeEntries(unique);
    const sha = hashObject("tree", serializeTree(sorted));
    this.objects.set(sha, { type: "tree", entries: sorted });
    return sha;
  }

  putCommit(commit: CommitObject): string {
    const sha = hashObject("commit", serializeCommit(commit));
    this.objects.set(sha, { type: "commit", commit: { ...commit, parents: [...commit.parents] } });
    return sha;
  }

  /** True when `ancestor` is `descendant` or reachable from it through parents. */
  isAncestor(ancestor: string, descendant: string): boolean {
    const seen = new Set<string>();
    const queue = [descendant];
    while (queue.length > 0) {
      const sha = queue.pop() as string;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      queue.push(...(this.commit(sha)?.parents ?? []));
    }
    return false;
  }
}
