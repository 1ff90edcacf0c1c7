/**
 * Repositories on disk: `repos/<ns>/<name>/repo.json` (visibility, gate, branches) and one
 * `commits/<sha>.json` snapshot per commit. Commits to a repository run one at a time; a commit
 * becomes visible only when the branch pointer in repo.json is renamed into place, so a failed
 * or interrupted commit changes nothing.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { applyOperations } from "./apply-operations.js";
import { BlobStore } from "./blob-store.js";
import { readJsonIfExists, writeJsonAtomic } from "../fs-atomic.js";
import { SHA1_HEX, commitId } from "./git-hash.js";
import { HubError, revisionNotFound } from "./hub-error.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { checkBranchName, checkRepoId } from "./names.js";
import { own } from "./own.js";
import { RepoLfsIndex } from "./repo-lfs.js";
import { listRepoFolders, sweepStorage, type SweepReport } from "./startup-sweep.js";
import type { CommitOperation, CommitRecord, GatedMode, RepoRecord } from "./types.js";

export interface NewCommit {
  branch: string;
  /** When set, the commit is refused (412) unless the branch head is still this commit. */
  parentCommit?: string;
  title: string;
  message?: string;
  author: string;
  operations: CommitOperation[];
  /** Commit on a new `refs/pr/N` branch started from `branch` instead of on `branch` itself. */
  createPr?: boolean;
}

export interface NewRepo {
  id: string;
  private?: boolean;
  gated?: GatedMode;
  author: string;
  /** Extra files of the initial commit, which always has `.gitattributes`. */
  files?: CommitOperation[];
}

export class RepoStore {
  readonly blobs: BlobStore;
  private readonly reposDir: string;
  private readonly repos = new Map<string, RepoRecord>();
  private readonly commits = new Map<string, CommitRecord>();
  private readonly lock = new KeyedMutex();
  private readonly lfs = new RepoLfsIndex((id) => this.repoDir(id));
  /** What startup cleaned up. */
  sweep: SweepReport = { tempFiles: 0, orphanBlobs: 0 };

  private constructor(root: string) {
    this.blobs = new BlobStore(root);
    this.reposDir = join(root, "repos");
  }

  /**
   * Opens (or creates) a store under `root`, loading every repository already there and removing
   * what a crash left behind (see startup-sweep.ts). Folders that hold no repo.json of their own
   * name are skipped.
   */
  static async open(root: string): Promise<RepoStore> {
    const store = new RepoStore(root);
    await store.blobs.init();
    await mkdir(store.reposDir, { recursive: true });
    const folders = await listRepoFolders(store.reposDir);
    for (const folder of folders) {
      const record = await readJsonIfExists<RepoRecord>(join(folder.dir, "repo.json"));
      if (record?.id === `${folder.namespace}/${folder.name}`) store.repos.set(record.id, record);
    }
    store.sweep = await sweepStorage(root, folders);
    return store;
  }

  get(id: string): RepoRecord | undefined {
    return this.repos.get(id);
  }

  list(): RepoRecord[] {
    return [...this.repos.values()];
  }

  async create(spec: NewRepo): Promise<{ repo: RepoRecord; commit: CommitRecord }> {
    checkRepoId(spec.id);
    return this.lock.run(spec.id, async () => {
      if (this.repos.has(spec.id)) throw new HubError(409, `You already created this model repo: ${spec.id}`);
      const operations: CommitOperation[] = [
        { kind: "put", path: ".gitattributes", content: Buffer.from(DEFAULT_GITATTRIBUTES) },
        ...(spec.files ?? []),
      ];
      const files = await applyOperations({}, operations, this.blobs, this.scope(spec.id, "main"));
      const commit = await this.writeCommit(spec.id, {
        parents: [],
        title: "initial commit",
        message: "",
        author: spec.author,
        files,
      });
      const repo: RepoRecord = {
        id: spec.id,
        uid: randomBytes(12).toString("hex"),
        private: spec.private ?? false,
        gated: spec.gated ?? false,
        acceptedUsers: [],
        createdAt: commit.date,
        branches: { main: commit.id },
      };
      await this.saveRepo(repo);
      return { repo, commit };
    });
  }

  async delete(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      this.repos.delete(id);
      this.lfs.forget(id);
      for (const key of this.commits.keys()) if (key.startsWith(`${id}@`)) this.commits.delete(key);
      await rm(this.repoDir(id), { recursive: true, force: true });
    });
  }

  /** Changes visibility, gate or accepted users. */
  async update(id: string, patch: Partial<Pick<RepoRecord, "private" | "gated" | "acceptedUsers">>) {
    await this.lock.run(id, async () => {
      const repo = this.requireRepo(id);
      await this.saveRepo({ ...repo, ...patch });
    });
  }

  /** The commit a revision names: `HEAD` (= main), a branch, `refs/heads/<b>`, or a commit id. */
  async resolve(id: string, revision: string): Promise<CommitRecord> {
    const repo = this.requireRepo(id);
    const branch = revision === "HEAD" ? "main" : revision.replace(/^refs\/heads\//, "");
    const sha = own(repo.branches, branch) ?? (SHA1_HEX.test(revision) ? revision : undefined);
    const commit = sha === undefined ? undefined : await this.readCommit(id, sha);
    if (!commit) throw revisionNotFound(id, revision);
    return commit;
  }

  async readCommit(id: string, sha: string): Promise<CommitRecord | undefined> {
    if (!SHA1_HEX.test(sha)) return undefined;
    const key = `${id}@${sha}`;
    const cached = this.commits.get(key);
    if (cached) return cached;
    const commit = await readJsonIfExists<CommitRecord>(join(this.repoDir(id), "commits", `${sha}.json`));
    if (commit) this.commits.set(key, commit);
    return commit;
  }

  /** Applies operations on top of a branch head, all or nothing. */
  async commit(id: string, spec: NewCommit): Promise<{ commit: CommitRecord; branch: string }> {
    return this.lock.run(id, async () => {
      const repo = this.requireRepo(id);
      const head = own(repo.branches, spec.branch);
      if (head === undefined) throw revisionNotFound(id, spec.branch);
      if (spec.parentCommit !== undefined && spec.parentCommit !== head) {
        throw new HubError(
          412,
          `A commit has happened since: ${spec.branch} is at ${head}, not at parentCommit ${spec.parentCommit}. Refresh and try again.`,
        );
      }
      const parent = await this.resolve(id, head);
      const files = await applyOperations(
        parent.files,
        spec.operations,
        this.blobs,
        this.scope(id, spec.branch),
      );
      const commit = await this.writeCommit(id, {
        parents: [head],
        title: spec.title,
        message: spec.message ?? "",
        author: spec.author,
        files,
      });
      const branch = spec.createPr ? nextPrRef(repo) : spec.branch;
      await this.saveRepo({ ...repo, branches: { ...repo.branches, [branch]: commit.id } });
      return { commit, branch };
    });
  }

  /** Creates or moves a branch to `sha` (or an empty commit when `sha` is null). */
  async setBranch(
    id: string,
    branch: string,
    sha: string | null,
    opts: { overwrite?: boolean; author: string },
  ) {
    checkBranchName(branch);
    await this.lock.run(id, async () => {
      const repo = this.requireRepo(id);
      if (own(repo.branches, branch) !== undefined && !opts.overwrite) {
        throw new HubError(409, `Reference ${branch} already exists in ${id}`);
      }
      const target = sha ?? (await this.writeEmptyCommit(id, branch, opts.author)).id;
      await this.saveRepo({ ...repo, branches: { ...repo.branches, [branch]: target } });
    });
  }

  async deleteBranch(id: string, branch: string): Promise<void> {
    await this.lock.run(id, async () => {
      const repo = this.requireRepo(id);
      if (branch === "main") throw new HubError(403, "The default branch cannot be deleted");
      if (own(repo.branches, branch) === undefined) throw revisionNotFound(id, branch);
      const branches = { ...repo.branches };
      delete branches[branch];
      await this.saveRepo({ ...repo, branches });
    });
  }

  /** True when `id` may reference LFS object `oid` (uploaded to it, or in its history). */
  hasLfs(id: string, oid: string): Promise<boolean> {
    return this.lfs.has(id, oid);
  }

  /** Records that LFS object `oid` (already stored and verified) was uploaded to `id`. */
  async recordLfsUpload(id: string, oid: string): Promise<void> {
    await this.lock.run(id, async () => {
      this.requireRepo(id);
      await this.lfs.recordUpload(id, oid);
    });
  }

  private scope(id: string, revision: string) {
    return { repo: id, revision, hasLfs: (oid: string) => this.lfs.has(id, oid) };
  }

  private requireRepo(id: string): RepoRecord {
    const repo = this.repos.get(id);
    if (!repo) throw new HubError(404, `Repository not found: ${id}`, "RepoNotFound");
    return repo;
  }

  private repoDir(id: string): string {
    const { namespace, name } = checkRepoId(id);
    return join(this.reposDir, namespace, name);
  }

  private async saveRepo(repo: RepoRecord): Promise<void> {
    await writeJsonAtomic(join(this.repoDir(repo.id), "repo.json"), repo);
    this.repos.set(repo.id, repo);
  }

  private async writeCommit(id: string, fields: Omit<CommitRecord, "id" | "date">): Promise<CommitRecord> {
    const date = new Date().toISOString();
    const commit: CommitRecord = { id: commitId({ ...fields, date }), date, ...fields };
    await writeJsonAtomic(join(this.repoDir(id), "commits", `${commit.id}.json`), commit);
    await this.lfs.recordCommit(id, commit.files);
    this.commits.set(`${id}@${commit.id}`, commit);
    return commit;
  }

  private writeEmptyCommit(id: string, branch: string, author: string): Promise<CommitRecord> {
    return this.writeCommit(id, {
      parents: [],
      title: `Create empty branch ${branch}`,
      message: "",
      author,
      files: {},
    });
  }
}

function nextPrRef(repo: RepoRecord): string {
  let n = 1;
  while (own(repo.branches, `refs/pr/${n}`) !== undefined) n++;
  return `refs/pr/${n}`;
}

/** What the Hub puts in a new repository: the usual binary formats go through LFS. */
export const DEFAULT_GITATTRIBUTES = [
  "*.7z",
  "*.bin",
  "*.ckpt",
  "*.gguf",
  "*.gz",
  "*.h5",
  "*.npy",
  "*.npz",
  "*.onnx",
  "*.ot",
  "*.parquet",
  "*.pickle",
  "*.pkl",
  "*.pt",
  "*.pth",
  "*.safetensors",
  "*.tar",
  "*.tflite",
  "*.zip",
  "*.zst",
]
  .map((pattern) => `${pattern} filter=lfs diff=lfs merge=lfs -text\n`)
  .join("");
