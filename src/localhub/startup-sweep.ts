/**
 * What startup finds on disk and cleans up. Repository folders are found by walking
 * `repos/<ns>/<name>/`, skipping anything that is not one (a `.DS_Store`, a stray file). A crash
 * mid-write leaves `.tmp.*` files beside their targets, and a crash mid-commit leaves regular blobs
 * that no commit names; both are removed here, before the server listens.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isRepoNamePart } from "./names.js";
import type { CommitRecord } from "./types.js";

/** What `writeFileAtomic` names its temporary files (`tempPath(dir)` with the default hint). */
const TEMP_FILE = /^\.tmp\.\d+\.[0-9a-f]+$/;
const HEX2 = /^[0-9a-f]{2}$/;
const HEX38 = /^[0-9a-f]{38}$/;
const COMMIT_FILE = /^[0-9a-f]{40}\.json$/;

/**
 * An unreferenced blob younger than this is kept: it may belong to a commit that another process
 * is writing right now (two servers on one folder is not supported, but must not lose data).
 */
export const ORPHAN_GRACE_MS = 10 * 60 * 1000;

export interface RepoFolder {
  namespace: string;
  name: string;
  dir: string;
}

export interface SweepReport {
  tempFiles: number;
  orphanBlobs: number;
  /** Why orphans were not looked for, when they were not. */
  orphansSkipped?: string;
}

/** The folders under `reposDir` that can hold a repository, in a stable order. */
export async function listRepoFolders(reposDir: string): Promise<RepoFolder[]> {
  const found: RepoFolder[] = [];
  for (const namespace of await subfolders(reposDir)) {
    if (!isRepoNamePart(namespace)) continue;
    for (const name of await subfolders(join(reposDir, namespace))) {
      if (isRepoNamePart(name)) found.push({ namespace, name, dir: join(reposDir, namespace, name) });
    }
  }
  return found;
}

/** Removes leftover temporary files, then regular blobs that no commit on disk references. */
export async function sweepStorage(
  root: string,
  repos: RepoFolder[],
  now = Date.now(),
): Promise<SweepReport> {
  const gitDir = join(root, "objects", "git");
  const lfsDir = join(root, "objects", "lfs");
  const folders = [
    ...(await shardFolders(gitDir)),
    ...(await shardFolders(lfsDir)),
    ...repos.flatMap((repo) => [repo.dir, join(repo.dir, "commits")]),
  ];
  let tempFiles = 0;
  for (const folder of folders) {
    for (const file of await filesIn(folder)) {
      if (!TEMP_FILE.test(file)) continue;
      await rm(join(folder, file), { force: true });
      tempFiles++;
    }
  }
  const orphans = await sweepOrphanBlobs(gitDir, repos, now);
  return { tempFiles, ...orphans };
}

async function sweepOrphanBlobs(
  gitDir: string,
  repos: RepoFolder[],
  now: number,
): Promise<Pick<SweepReport, "orphanBlobs" | "orphansSkipped">> {
  const candidates: { oid: string; path: string }[] = [];
  for (const shard of await subfolders(gitDir)) {
    if (!HEX2.test(shard)) continue;
    for (const rest of await filesIn(join(gitDir, shard))) {
      if (!HEX38.test(rest)) continue;
      const path = join(gitDir, shard, rest);
      if (now - (await stat(path)).mtimeMs >= ORPHAN_GRACE_MS) candidates.push({ oid: shard + rest, path });
    }
  }
  if (candidates.length === 0) return { orphanBlobs: 0 };
  const referenced = await referencedBlobs(repos);
  if (typeof referenced === "string") return { orphanBlobs: 0, orphansSkipped: referenced };
  let orphanBlobs = 0;
  for (const candidate of candidates) {
    if (referenced.has(candidate.oid)) continue;
    await rm(candidate.path, { force: true });
    orphanBlobs++;
  }
  return { orphanBlobs };
}

/**
 * Every blob id that any commit file on disk names, reachable or not. A file that cannot be read
 * as a commit means the set cannot be proven complete: the reason is returned instead, and no
 * blob is deleted.
 */
async function referencedBlobs(repos: RepoFolder[]): Promise<Set<string> | string> {
  const referenced = new Set<string>();
  for (const repo of repos) {
    const commitsDir = join(repo.dir, "commits");
    for (const file of await filesIn(commitsDir)) {
      if (TEMP_FILE.test(file)) continue;
      if (!COMMIT_FILE.test(file)) return `unexpected file ${join(commitsDir, file)}`;
      let commit: CommitRecord;
      try {
        commit = JSON.parse(await readFile(join(commitsDir, file), "utf8")) as CommitRecord;
      } catch {
        return `unreadable commit ${join(commitsDir, file)}`;
      }
      if (typeof commit.files !== "object" || commit.files === null) {
        return `commit ${join(commitsDir, file)} has no file list`;
      }
      for (const entry of Object.values(commit.files)) referenced.add(entry.oid);
    }
  }
  return referenced;
}

/** `objects/<kind>/xx` folders. */
async function shardFolders(dir: string): Promise<string[]> {
  return (await subfolders(dir)).filter((name) => HEX2.test(name)).map((name) => join(dir, name));
}

async function subfolders(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

async function filesIn(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

async function entries(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
