/**
 * In-process administration for tests and the demo: seed repositories and commits without HTTP
 * or tokens, and flip visibility and gates.
 */
import { HubError } from "./hub-error.js";
import { own } from "./own.js";
import type { RepoStore } from "./repo-store.js";
import type { CommitOperation, GatedMode } from "./types.js";
import { uploadModeFor } from "./upload-mode.js";

/** Path → new content (a string is UTF-8), or null to delete the file. */
export type AdminFiles = Record<string, string | Uint8Array | null>;

export interface AdminCommitOptions {
  branch?: string;
  author?: string;
  /** Refuse the commit unless the branch is still at this commit. */
  parentCommit?: string;
  /** Force LFS on or off for every file, or decide per file; default: the preupload rule. */
  lfs?: boolean | ((path: string, content: Uint8Array) => boolean);
}

export interface AdminRepoOptions {
  private?: boolean;
  gated?: boolean | "auto" | "manual";
  author?: string;
}

export class LocalHubAdmin {
  constructor(private readonly store: RepoStore) {}

  /** Creates `namespace/name` (with its initial `.gitattributes` commit); returns that commit id. */
  async createRepo(repo: string, opts: AdminRepoOptions = {}): Promise<string> {
    const { commit } = await this.store.create({
      id: repo,
      private: opts.private ?? false,
      gated: gatedMode(opts.gated ?? false),
      author: opts.author ?? repo.split("/")[0] ?? "admin",
    });
    return commit.id;
  }

  /** Commits files (LFS objects stored directly); returns the new commit id. */
  async commit(repo: string, files: AdminFiles, message = "Update files", opts: AdminCommitOptions = {}) {
    const operations: CommitOperation[] = [];
    for (const [path, value] of Object.entries(files)) {
      if (value === null) {
        operations.push({ kind: "delete", path });
        continue;
      }
      const content = typeof value === "string" ? Buffer.from(value) : value;
      if (this.wantsLfs(path, content, opts.lfs)) {
        const oid = await this.store.blobs.putLfs(content);
        await this.store.recordLfsUpload(repo, oid);
        operations.push({ kind: "lfs", path, oid, size: content.byteLength });
      } else {
        operations.push({ kind: "put", path, content });
      }
    }
    const { commit } = await this.store.commit(repo, {
      branch: opts.branch ?? "main",
      parentCommit: opts.parentCommit,
      title: message,
      author: opts.author ?? repo.split("/")[0] ?? "admin",
      operations,
    });
    return commit.id;
  }

  setPrivate(repo: string, value: boolean): Promise<void> {
    return this.store.update(repo, { private: value });
  }

  /** `true` means the Hub's "auto" gate; any gate needs each user's acceptance here. */
  setGated(repo: string, gated: boolean | "auto" | "manual"): Promise<void> {
    return this.store.update(repo, { gated: gatedMode(gated) });
  }

  /** Records that `user` accepted the gate of `repo`. */
  async acceptGate(repo: string, user: string): Promise<void> {
    const accepted = this.requireRepo(repo).acceptedUsers;
    if (!accepted.includes(user)) await this.store.update(repo, { acceptedUsers: [...accepted, user] });
  }

  async createBranch(repo: string, branch: string, from = "main"): Promise<string> {
    const start = await this.store.resolve(repo, from);
    await this.store.setBranch(repo, branch, start.id, { author: "admin" });
    return start.id;
  }

  /** The commit id a branch points at. */
  head(repo: string, branch = "main"): string {
    const sha = own(this.requireRepo(repo).branches, branch);
    if (sha === undefined) throw new HubError(404, `no branch ${branch} in ${repo}`, "RevisionNotFound");
    return sha;
  }

  deleteRepo(repo: string): Promise<void> {
    return this.store.delete(repo);
  }

  private requireRepo(repo: string) {
    const record = this.store.get(repo);
    if (!record) throw new HubError(404, `no repository ${repo}`, "RepoNotFound");
    return record;
  }

  private wantsLfs(path: string, content: Uint8Array, rule: AdminCommitOptions["lfs"]): boolean {
    if (typeof rule === "boolean") return rule;
    if (typeof rule === "function") return rule(path, content);
    return uploadModeFor({ path, size: content.byteLength, sample: content.subarray(0, 512) }) === "lfs";
  }
}

function gatedMode(gated: boolean | "auto" | "manual"): GatedMode {
  return gated === true ? "auto" : gated;
}
