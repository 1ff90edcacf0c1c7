/**
 * Which LFS objects each repository may reference. Objects are stored once for all repos, but a
 * commit may name an object only when it was uploaded to that repo (through its own signed upload
 * URL, so the uploader had the bytes) or is already in that repo's history, as the Hub enforces.
 * Otherwise anyone could copy the `lfs.oid` of a gated or private file from the tree API, commit
 * it to a repo of their own and download it from there.
 *
 * Uploads are recorded as empty marker files `repos/<ns>/<name>/lfs-uploads/<oid>`, so an upload
 * still counts after a restart; the history part is read from the repo's commit files.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SHA256_HEX } from "./git-hash.js";
import type { CommitRecord, Snapshot } from "./types.js";

export const LFS_UPLOADS_DIR = "lfs-uploads";

export class RepoLfsIndex {
  private readonly known = new Map<string, Promise<Set<string>>>();

  constructor(private readonly dirOf: (repo: string) => string) {}

  /** True when `repo` may reference LFS object `oid`. */
  async has(repo: string, oid: string): Promise<boolean> {
    return (await this.load(repo)).has(oid);
  }

  /** Records that `oid` was uploaded to `repo`. */
  async recordUpload(repo: string, oid: string): Promise<void> {
    if (!SHA256_HEX.test(oid)) throw new Error(`not an LFS oid: ${oid}`);
    const folder = join(this.dirOf(repo), LFS_UPLOADS_DIR);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, oid), "");
    (await this.load(repo)).add(oid);
  }

  /** Adds the LFS objects of a commit just written to `repo`. */
  async recordCommit(repo: string, files: Snapshot): Promise<void> {
    const set = this.known.get(repo);
    if (!set) return; // Loaded from the commit files on first use.
    addLfsOids(await set, files);
  }

  forget(repo: string): void {
    this.known.delete(repo);
  }

  private load(repo: string): Promise<Set<string>> {
    let set = this.known.get(repo);
    if (!set) {
      set = scan(this.dirOf(repo));
      this.known.set(repo, set);
      set.catch(() => this.known.delete(repo));
    }
    return set;
  }
}

async function scan(repoDir: string): Promise<Set<string>> {
  const oids = new Set<string>();
  for (const name of await namesIn(join(repoDir, LFS_UPLOADS_DIR))) if (SHA256_HEX.test(name)) oids.add(name);
  const commitsDir = join(repoDir, "commits");
  for (const name of await namesIn(commitsDir)) {
    if (!/^[0-9a-f]{40}\.json$/.test(name)) continue;
    const commit = JSON.parse(await readFile(join(commitsDir, name), "utf8")) as CommitRecord;
    addLfsOids(oids, commit.files);
  }
  return oids;
}

function addLfsOids(oids: Set<string>, files: Snapshot): void {
  for (const entry of Object.values(files)) if (entry.lfs) oids.add(entry.lfs.oid);
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
