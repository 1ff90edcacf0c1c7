/**
 * Issue 13, security 5: the Hub cache checked only lengths, so a same-length edit of a cached
 * header or weight block changed the next merge. Now every cached block and range is checked
 * against the sha256 recorded (HMAC-signed, outside the data) when it was fetched, and whole
 * objects against their Hub hash.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RetryOptions } from "../../src/hub/client/retrying-fetch.js";
import { runMerge } from "../../src/pipeline/index.js";
import { CacheLedger } from "../../src/source/cache-ledger.js";
import { HubCache } from "../../src/source/hub-cache.js";
import { HubSource } from "../../src/source/hub-source.js";
import type { SourceResolver } from "../../src/source/resolve.js";
import { startTestHub, type TestHub } from "../localhub/helpers.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { folderFiles } from "../support/hub-models.js";

const tempDir = useTempDirs();
const fastRetry: RetryOptions = { sleep: async () => undefined, random: () => 0 };
const BLOCK = 4096;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = (text: string) => new TextEncoder().encode(text);

/** Inverts `count` bytes in place (a whole element, whatever the dtype): same length, other content. */
async function flipByte(path: string, at = 0, count = 1): Promise<void> {
  const bytes = await readFile(path);
  for (let i = at; i < at + count; i++) bytes[i] = bytes[i]! ^ (count === 1 ? 0x01 : 0xff);
  await writeFile(path, bytes);
}

describe("HubCache records", () => {
  async function cacheWithBlock() {
    const dir = await tempDir();
    const cache = new HubCache(join(dir, "cache"), BLOCK, { keyFile: join(dir, "key") });
    const block = bytesOf("x".repeat(BLOCK));
    // A made-up object of two blocks, so that one block does not make it whole.
    const key = cache.keyFor({ lfsOid: "a".repeat(64), size: 2 * BLOCK })!;
    await cache.putBlock(key, 0, block);
    return { dir, cache, key, block, data: join(dir, "cache", "blocks", key, `${BLOCK}-0`) };
  }

  it("returns a block that matches its record", async () => {
    const { cache, key, block } = await cacheWithBlock();
    expect(await cache.getBlock(key, 0, BLOCK)).toEqual(block);
  });

  it("refuses a same-length edit of a block", async () => {
    const { cache, key, data } = await cacheWithBlock();
    await flipByte(data, 100);
    expect(await cache.getBlock(key, 0, BLOCK)).toBeUndefined();
  });

  it("refuses a block whose record was rewritten to match it without the key", async () => {
    const { dir, cache, key, data } = await cacheWithBlock();
    await flipByte(data, 100);
    const recordPath = join(dir, "cache", "records", "blocks", key, `${BLOCK}-0.json`);
    const record = JSON.parse(await readFile(recordPath, "utf8")) as { sha256: string; mac: string };
    await writeFile(recordPath, JSON.stringify({ ...record, sha256: sha256(await readFile(data)) }));
    expect(await cache.getBlock(key, 0, BLOCK)).toBeUndefined();
    // A new key (a cache copied to another machine) verifies nothing either.
    const elsewhere = new HubCache(join(dir, "cache"), BLOCK, { keyFile: join(dir, "other-key") });
    expect(await elsewhere.getBlock(key, 1, BLOCK)).toBeUndefined();
  });

  it("checks a range the same way, and a block without a record (an older cache) is fetched again", async () => {
    const { dir, cache, key } = await cacheWithBlock();
    await cache.putRange(key, 8, bytesOf('{"a":1}'));
    expect(new TextDecoder().decode(await cache.getRange(key, 8, 7))).toBe('{"a":1}');
    await writeFile(join(dir, "cache", "ranges", key, "8-7"), '{"a":2}');
    expect(await cache.getRange(key, 8, 7)).toBeUndefined();
    await writeFile(join(dir, "cache", "blocks", key, `${BLOCK}-1`), "y".repeat(BLOCK));
    expect(await cache.getBlock(key, 1, BLOCK)).toBeUndefined();
  });

  it("marks an object whose blocks hash to its sha256, in any order, and drops one that does not", async () => {
    const dir = await tempDir();
    const cache = new HubCache(join(dir, "cache"), BLOCK, { keyFile: join(dir, "key") });
    const content = bytesOf("0123456789".repeat(1000)); // 10000 bytes: three blocks
    const blocks = [0, 1, 2].map((i) => content.subarray(i * BLOCK, (i + 1) * BLOCK));
    const good = cache.keyFor({ lfsOid: sha256(content), size: content.byteLength })!;
    for (const i of [2, 0, 1]) await cache.putBlock(good, i, blocks[i]!);
    expect(await cache.ledger.objectVerified(good)).toBe(true);

    const bad = cache.keyFor({ lfsOid: "b".repeat(64), size: content.byteLength })!;
    for (const i of [0, 1, 2]) await cache.putBlock(bad, i, blocks[i]!);
    expect(await cache.ledger.objectVerified(bad)).toBe(false);
    expect(await cache.getBlock(bad, 0, BLOCK)).toBeUndefined();
    await expect(readdir(join(dir, "cache", "blocks", bad))).rejects.toThrow(/ENOENT/);
  });

  it("checks a small git file read whole against its blob sha1", async () => {
    const dir = await tempDir();
    const cache = new HubCache(join(dir, "cache"), BLOCK, { keyFile: join(dir, "key") });
    const text = bytesOf('{"model_type":"llama"}');
    const oid = createHash("sha1").update(`blob ${text.byteLength}\0`).update(text).digest("hex");
    const key = cache.keyFor({ oid, size: text.byteLength })!;
    await cache.putRange(key, 0, text);
    expect(await cache.ledger.objectVerified(key)).toBe(true);
  });

  it("keeps the HMAC key outside the cache folder", async () => {
    const dir = await tempDir();
    const cache = new HubCache(join(dir, "cache"), BLOCK);
    await cache.putRange(cache.keyFor({ lfsOid: "c".repeat(64), size: 100 })!, 0, bytesOf("x"));
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["cache", ".cache.key"]));
    expect(new CacheLedger("x", "y")).toBeInstanceOf(CacheLedger);
  });
});

describe("a merge from the Hub cache", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it("detects a same-length edit of a cached header and weight block, refetches, and gives the uncached bytes", async () => {
    const dir = await tempDir();
    const family = await writeFamily(join(dir, "models"), { fineTunes: 1 });
    for (const [name, path] of [
      ["base", family.base],
      ["ft1", family.fineTunes[0]!],
    ] as const) {
      await t.hub.admin.createRepo(`alice/${name}`);
      await t.hub.admin.commit(`alice/${name}`, await folderFiles(path));
    }
    const manifestPath = await writeManifest(
      dir,
      "merge_method: task_arithmetic\nbase_model: alice/base\nmodels:\n  - model: alice/ft1\n    parameters: {weight: 0.7}\n",
    );
    const cacheDir = join(dir, "cache");
    const resolver =
      (cached: boolean): SourceResolver =>
      (ref) =>
        HubSource.resolve(ref, {
          hub: { hubUrl: t.hub.url },
          retry: fastRetry,
          ...(cached ? { cacheDir, cacheBlockBytes: BLOCK } : {}),
        });
    const clean = await runMerge({ manifestPath, out: join(dir, "clean"), resolver: resolver(false) });
    expect(clean.record.sourceCache).toBeUndefined();
    await runMerge({ manifestPath, out: join(dir, "fill"), resolver: resolver(true) });
    const expected = await readFile(join(dir, "clean", "model.safetensors"));

    // The fine-tune's weights: its header was cached as a range, its tensors as blocks.
    const ft = await HubSource.resolve(
      { raw: "alice/ft1", kind: "hub", repo: "alice/ft1" },
      { hub: { hubUrl: t.hub.url } },
    );
    const shard = (await ft.listFiles()).find((f) => f.endsWith(".safetensors"))!;
    const oid = sha256(await readFile(join(family.fineTunes[0]!, shard)));
    const key = `sha256-${oid}`;
    const cache = new HubCache(cacheDir, BLOCK);
    expect(await cache.ledger.objectVerified(key)).toBe(true); // the whole shard was read and matched
    const shardBytes = await readFile(join(family.fineTunes[0]!, shard));
    const mergeAgain = async (out: string) => {
      t.hub.requests.clear();
      const run = await runMerge({ manifestPath, out: join(dir, out), resolver: resolver(true) });
      expect((await readFile(join(dir, out, "model.safetensors"))).equals(expected)).toBe(true);
      expect(run.record.sourceCache).toBe("verified");
      return t.hub.requests.matching({ pathIncludes: `/alice/ft1/resolve/` }).map((r) => r.range);
    };

    // A same-length edit of a weight block: before, the merge silently took the edited weights.
    await flipByte(join(cacheDir, "blocks", key, `${BLOCK}-1`), 120, 8);
    expect(await mergeAgain("after-weights")).toEqual([`bytes=${BLOCK}-${2 * BLOCK - 1}`]);
    const block = await readFile(join(cacheDir, "blocks", key, `${BLOCK}-1`));
    expect(block.equals(shardBytes.subarray(BLOCK, 2 * BLOCK))).toBe(true); // the Hub's bytes again

    // Same-length edits of the header: its length prefix (a range) and its JSON (in block 0).
    await flipByte(join(cacheDir, "ranges", key, "0-8"), 0);
    await flipByte(join(cacheDir, "blocks", key, `${BLOCK}-0`), 20);
    expect((await mergeAgain("again")).sort()).toEqual([`bytes=0-${BLOCK - 1}`, "bytes=0-7"]);
    const record = JSON.parse(await readFile(join(dir, "again", "hubmerge.json"), "utf8"));
    expect(record.sourceCache).toBe("verified");
  });
});

describe("HubCache without a writable key file", () => {
  it("signs with a key of its own for this process; another process verifies nothing and fetches again", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "not-a-folder"), "x");
    const keyFile = join(dir, "not-a-folder", "key"); // cannot be created
    const cache = new HubCache(join(dir, "cache"), BLOCK, { keyFile });
    const key = cache.keyFor({ lfsOid: "d".repeat(64), size: 2 * BLOCK })!;
    const block = bytesOf("z".repeat(BLOCK));
    await cache.putBlock(key, 0, block);
    expect(await cache.getBlock(key, 0, BLOCK)).toEqual(block);
    const later = new HubCache(join(dir, "cache"), BLOCK, { keyFile });
    expect(await later.getBlock(key, 0, BLOCK)).toBeUndefined();
  });
});
