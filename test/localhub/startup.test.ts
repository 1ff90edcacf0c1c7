/**
 * Startup on a folder a previous run left untidy (issue 13, security 8): stray entries in
 * `repos/<ns>/` do not stop it, and what a crash mid-commit left is cleaned up.
 */
import { mkdtemp, mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gitBlobSha1 } from "../../src/localhub/git-hash.js";
import { startLocalHub } from "../../src/localhub/index.js";
import { RepoStore } from "../../src/localhub/repo-store.js";
import { ORPHAN_GRACE_MS } from "../../src/localhub/startup-sweep.js";
import { TOKENS } from "./helpers.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function seededHubDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "localhub-startup-"));
  dirs.push(dir);
  const hub = await startLocalHub({ dir, tokens: TOKENS });
  await hub.admin.createRepo("alice/m");
  await hub.admin.commit("alice/m", { "kept.txt": "kept\n" });
  await hub.close();
  return dir;
}

function blobPath(dir: string, oid: string): string {
  return join(dir, "objects", "git", oid.slice(0, 2), oid.slice(2));
}

async function ageFile(path: string, ms: number): Promise<void> {
  const past = new Date(Date.now() - ms);
  await utimes(path, past, past);
}

describe("startup", () => {
  it("skips a .DS_Store and other non-repository entries in repos/ and repos/<ns>/", async () => {
    const dir = await seededHubDir();
    await writeFile(join(dir, "repos", ".DS_Store"), "junk");
    await writeFile(join(dir, "repos", "alice", ".DS_Store"), "junk");
    await writeFile(join(dir, "repos", "alice", "notes.txt"), "junk");
    await mkdir(join(dir, "repos", "alice", "empty"));
    const hub = await startLocalHub({ dir, tokens: TOKENS });
    try {
      const res = await fetch(`${hub.url}/api/models/alice/m`);
      expect(res.status).toBe(200);
      expect((await fetch(`${hub.url}/api/models/alice/empty`)).status).toBe(401);
    } finally {
      await hub.close();
    }
  });

  it("removes .tmp.* files and old blobs that no commit references; keeps referenced and young ones", async () => {
    const dir = await seededHubDir();
    const kept = gitBlobSha1(Buffer.from("kept\n"));
    const orphanOld = gitBlobSha1(Buffer.from("half a commit\n"));
    const orphanYoung = gitBlobSha1(Buffer.from("a commit in progress\n"));
    for (const oid of [orphanOld, orphanYoung]) {
      await mkdir(join(blobPath(dir, oid), ".."), { recursive: true });
      await writeFile(blobPath(dir, oid), "x");
    }
    await ageFile(blobPath(dir, orphanOld), ORPHAN_GRACE_MS + 60_000);
    await ageFile(blobPath(dir, kept), ORPHAN_GRACE_MS + 60_000);
    const tempInGit = join(blobPath(dir, kept), "..", `.tmp.4242.0123456789ab`);
    const tempInCommits = join(dir, "repos", "alice", "m", "commits", `.tmp.4242.ba9876543210`);
    await writeFile(tempInGit, "partial");
    await writeFile(tempInCommits, "partial");

    const store = await RepoStore.open(dir);
    expect(store.sweep).toEqual({ tempFiles: 2, orphanBlobs: 1 });
    const remaining = async (oid: string) =>
      (await readdir(join(blobPath(dir, oid), ".."))).includes(oid.slice(2));
    expect(await remaining(kept)).toBe(true);
    expect(await remaining(orphanOld)).toBe(false);
    expect(await remaining(orphanYoung)).toBe(true);
    expect(await readdir(join(blobPath(dir, kept), ".."))).not.toContain(".tmp.4242.0123456789ab");

    // The store still serves what it had.
    const hub = await startLocalHub({ dir, tokens: TOKENS });
    try {
      const res = await fetch(`${hub.url}/alice/m/resolve/main/kept.txt`);
      expect(await res.text()).toBe("kept\n");
    } finally {
      await hub.close();
    }
  });

  it("deletes no blob when a commit file cannot be read (references cannot be proven)", async () => {
    const dir = await seededHubDir();
    const orphan = gitBlobSha1(Buffer.from("maybe referenced\n"));
    await mkdir(join(blobPath(dir, orphan), ".."), { recursive: true });
    await writeFile(blobPath(dir, orphan), "x");
    await ageFile(blobPath(dir, orphan), ORPHAN_GRACE_MS + 60_000);
    await writeFile(join(dir, "repos", "alice", "m", "commits", `${"c".repeat(40)}.json`), "{not json");
    const store = await RepoStore.open(dir);
    expect(store.sweep.orphanBlobs).toBe(0);
    expect(store.sweep.orphansSkipped).toMatch(/unreadable commit/);
    expect(await readdir(join(blobPath(dir, orphan), ".."))).toContain(orphan.slice(2));
  });
});
