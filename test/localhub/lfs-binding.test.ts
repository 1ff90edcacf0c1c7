/**
 * LFS objects belong to repositories (issue 13, security 2): an `lfsFile` may name an object only
 * when it was uploaded to that repo or is in its history. Reproduction of the attack: Bob copies
 * the `lfs.oid` of a gated file from the tree API, commits it to his own repo, and downloads it
 * from there anonymously.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHub } from "../../src/localhub/index.js";
import { ALICE, BOB, TOKENS, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
const SECRET_WEIGHTS = binaryBytes(2000, 42);
const LFS = { Accept: "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json" };
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  t = await startTestHub({ multipartThreshold: 1000, multipartChunkSize: 400 });
  await t.hub.admin.createRepo("alice/gated", { gated: true });
  await t.hub.admin.commit("alice/gated", { "model.safetensors": SECRET_WEIGHTS });
  await t.hub.admin.createRepo("bob/loot");
});
afterAll(() => t.stop());

interface BatchAnswer {
  objects: { oid: string; actions?: { upload: { href: string; header?: Record<string, string> } } }[];
}

async function batch(
  repo: string,
  token: string,
  objects: { oid: string; size: number }[],
  transfers = ["basic"],
) {
  const res = await fetch(`${t.hub.url}/${repo}.git/info/lfs/objects/batch`, {
    method: "POST",
    headers: { ...LFS, Authorization: `Bearer ${token}` },
    body: JSON.stringify({ operation: "upload", transfers, hash_algo: "sha_256", objects }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as BatchAnswer;
}

async function commitLfs(repo: string, token: string, path: string, oid: string, size: number) {
  const lines = [
    { key: "header", value: { summary: `add ${path}` } },
    { key: "lfsFile", value: { path, algo: "sha256", oid, size } },
  ];
  const res = await fetch(`${t.hub.url}/api/models/${repo}/commit/main`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" },
    body: lines.map((line) => JSON.stringify(line)).join("\n"),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

async function stolenOid(): Promise<{ oid: string; size: number }> {
  // The gated repo's tree is public metadata: anyone may read the LFS oid there.
  const res = await fetch(`${t.hub.url}/api/models/alice/gated/tree/main`, {
    headers: { Authorization: `Bearer ${BOB}` },
  });
  const entries = (await res.json()) as { path: string; lfs?: { oid: string; size: number } }[];
  const lfs = entries.find((entry) => entry.path === "model.safetensors")!.lfs!;
  return { oid: lfs.oid, size: lfs.size };
}

describe("LFS objects are bound to repositories", () => {
  it("refuses to commit another repo's object by its oid, so it cannot be downloaded from there", async () => {
    const { oid, size } = await stolenOid();
    expect(oid).toBe(sha256(SECRET_WEIGHTS));
    const { status, body } = await commitLfs("bob/loot", BOB, "w.safetensors", oid, size);
    expect(status).toBe(422);
    expect(body.error).toMatch(/never uploaded to bob\/loot/);
    const download = await fetch(`${t.hub.url}/bob/loot/resolve/main/w.safetensors`);
    expect(download.status).toBe(404);
    await download.arrayBuffer();
  });

  it("the batch API asks for the bytes of an object stored only for another repo", async () => {
    const { oid, size } = await stolenOid();
    const answer = await batch("bob/loot", BOB, [{ oid, size }]);
    expect(answer.objects[0]?.actions?.upload.href).toBeDefined();
  });

  it("an object uploaded to the repo (bytes verified) may be committed there", async () => {
    const bytes = binaryBytes(700, 7);
    const oid = sha256(bytes);
    const href = (await batch("bob/loot", BOB, [{ oid, size: 700 }])).objects[0]!.actions!.upload.href;
    expect((await fetch(href, { method: "PUT", body: bytes })).status).toBe(200);
    expect((await commitLfs("bob/loot", BOB, "mine.bin", oid, 700)).status).toBe(200);
    // Having proven to hold the bytes, Bob may commit the gated object too.
    const { oid: gatedOid, size } = await stolenOid();
    const gatedHref = (await batch("bob/loot", BOB, [{ oid: gatedOid, size }])).objects[0]!.actions!.upload
      .href;
    const wrong = await fetch(gatedHref, { method: "PUT", body: binaryBytes(size, 1) });
    expect(wrong.status).toBe(400);
    await wrong.arrayBuffer();
    expect((await commitLfs("bob/loot", BOB, "w.safetensors", gatedOid, size)).status).toBe(422);
  });

  it("an object in the repo's history may be committed again without uploading", async () => {
    const { oid, size } = await stolenOid();
    expect((await batch("alice/gated", ALICE, [{ oid, size }])).objects[0]?.actions).toBeUndefined();
    expect((await commitLfs("alice/gated", ALICE, "copy.safetensors", oid, size)).status).toBe(200);
  });

  it("an upload URL works only for the repo it was issued for", async () => {
    await t.hub.admin.createRepo("alice/other");
    const bytes = binaryBytes(300, 8);
    const oid = sha256(bytes);
    const href = (await batch("alice/other", ALICE, [{ oid, size: 300 }])).objects[0]!.actions!.upload.href;
    const retargeted = href.replace("repo=alice%2Fother", "repo=bob%2Floot");
    expect(retargeted).not.toBe(href);
    const res = await fetch(retargeted, { method: "PUT", body: bytes });
    expect(res.status).toBe(403);
    await res.arrayBuffer();
    expect((await commitLfs("bob/loot", BOB, "x.bin", oid, 300)).status).toBe(422);
  });

  it("multipart uploads are bound the same way", async () => {
    const bytes = binaryBytes(1200, 9);
    const oid = sha256(bytes);
    const upload = (await batch("bob/loot", BOB, [{ oid, size: 1200 }], ["basic", "multipart"])).objects[0]!
      .actions!.upload;
    const parts = Object.entries(upload.header!).filter(([key]) => /^\d+$/.test(key));
    const etags: string[] = [];
    for (const [i, [, url]] of parts.entries()) {
      const res = await fetch(url, { method: "PUT", body: bytes.subarray(i * 400, (i + 1) * 400) });
      etags.push(res.headers.get("ETag")!);
    }
    const complete = await fetch(upload.href, {
      method: "POST",
      headers: LFS,
      body: JSON.stringify({ oid, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) }),
    });
    expect(complete.status).toBe(200);
    expect((await commitLfs("bob/loot", BOB, "big.bin", oid, 1200)).status).toBe(200);
    expect((await commitLfs("alice/other", ALICE, "big.bin", oid, 1200)).status).toBe(422);
  });
});

describe("after a restart", () => {
  it("an object uploaded but not yet committed still counts as uploaded to its repo", async () => {
    const first = await startTestHub();
    await first.hub.admin.createRepo("bob/later");
    const bytes = binaryBytes(500, 10);
    const oid = sha256(bytes);
    const res = await fetch(`${first.hub.url}/bob/later.git/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...LFS, Authorization: `Bearer ${BOB}` },
      body: JSON.stringify({ operation: "upload", transfers: ["basic"], objects: [{ oid, size: 500 }] }),
    });
    const href = ((await res.json()) as BatchAnswer).objects[0]!.actions!.upload.href;
    expect((await fetch(href, { method: "PUT", body: bytes })).status).toBe(200);
    await first.hub.close();
    const restarted = await startLocalHub({ dir: first.dir, tokens: TOKENS });
    try {
      const lines = [
        { key: "header", value: { summary: "after restart" } },
        { key: "lfsFile", value: { path: "later.bin", algo: "sha256", oid, size: 500 } },
      ];
      const commit = await fetch(`${restarted.url}/api/models/bob/later/commit/main`, {
        method: "POST",
        headers: { Authorization: `Bearer ${BOB}`, "Content-Type": "application/x-ndjson" },
        body: lines.map((line) => JSON.stringify(line)).join("\n"),
      });
      expect(commit.status).toBe(200);
    } finally {
      await restarted.close();
      await rm(first.dir, { recursive: true, force: true });
    }
  });
});
