/** One repository held in memory: git objects, refs, pull requests and their comments. */
import { GitStore, SHA1_HEX, type CommitObject, type Signature } from "./git-store.js";
import { flattenTree, lookupPath, removePath, setLeaf, writeTree } from "./tree-edit.js";

export interface UserRecord {
  login: string;
  id: number;
  type: "User" | "Bot";
}

export interface PullRecord {
  number: number;
  title: string;
  body: string | null;
  /** Head branch name (in this repository; forks are not modelled). */
  head: string;
  base: string;
  state: "open" | "closed";
  draft: boolean;
  user: UserRecord;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  body: string;
  user: UserRecord;
  createdAt: string;
  updatedAt: string;
}

/** A commit as `commits()` lists it, newest first. */
export interface CommitSummary extends CommitObject {
  sha: string;
}

/** File contents for a seed commit: text (utf-8), bytes, or null to delete the path. */
export type SeedFiles = Record<string, string | Uint8Array | null>;

const SEED_AUTHOR = { name: "Seed Bot", email: "seed@example.com" };

export class RepoState {
  readonly git = new GitStore();
  /** Full ref name (`refs/heads/main`) → commit sha. */
  readonly refs = new Map<string, string>();
  readonly pulls: PullRecord[] = [];
  readonly comments: CommentRecord[] = [];
  private nextIssueNumber = 1;

  constructor(
    readonly owner: string,
    readonly name: string,
    readonly id: number,
    public defaultBranch: string,
    public isPrivate: boolean,
    readonly createdAt: string,
  ) {}

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  takeIssueNumber(): number {
    return this.nextIssueNumber++;
  }

  branchSha(branch: string): string | undefined {
    return this.refs.get(`refs/heads/${branch}`);
  }

  /**
   * The commit a `ref` query names: a branch, a tag, a full or `heads/`-style ref, or a commit
   * sha; the default branch when omitted.
   */
  resolveCommit(ref?: string): string | undefined {
    if (ref === undefined || ref === "") return this.branchSha(this.defaultBranch);
    if (SHA1_HEX.test(ref) && this.git.commit(ref)) return ref;
    const candidates = [ref, `refs/${ref}`, `refs/heads/${ref}`, `refs/tags/${ref}`];
    for (const name of candidates) {
      const sha = this.refs.get(name);
      if (sha !== undefined) return sha;
    }
    return undefined;
  }

  /** Bytes of a file at a ref, or undefined when the ref or the file is missing. */
  readFile(path: string, ref?: string): Buffer | undefined {
    const commit = this.git.commit(this.resolveCommit(ref) ?? "");
    if (commit === undefined) return undefined;
    const entry = lookupPath(this.git, commit.tree, path);
    return entry?.type === "blob" ? this.git.blob(entry.sha) : undefined;
  }

  /** First-parent history of a branch, newest first. */
  history(branch: string): CommitSummary[] {
    const out: CommitSummary[] = [];
    let sha = this.branchSha(branch);
    while (sha !== undefined) {
      const commit = this.git.commit(sha);
      if (commit === undefined) break;
      out.push({ sha, ...commit });
      sha = commit.parents[0];
    }
    return out;
  }

  /**
   * Commits `files` on top of `branch` (creating it from the default branch, or as the first
   * commit) and moves the branch. Returns the new commit's sha.
   */
  commitFiles(branch: string, files: SeedFiles, message: string, date: string): string {
    const parent = this.branchSha(branch) ?? this.branchSha(this.defaultBranch);
    const flat = flattenTree(this.git, parent === undefined ? undefined : this.git.commit(parent)?.tree);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) {
        removePath(flat, path);
        continue;
      }
      const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      setLeaf(flat, path, { mode: "100644", type: "blob", sha: this.git.putBlob(data) });
    }
    const who: Signature = { ...SEED_AUTHOR, date };
    const sha = this.git.putCommit({
      tree: writeTree(this.git, flat),
      parents: parent === undefined ? [] : [parent],
      author: who,
      committer: who,
      message,
    });
    this.refs.set(`refs/heads/${branch}`, sha);
    return sha;
  }
}
