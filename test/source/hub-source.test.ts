/** HubSource against the local Hub: pinning, range reads, faults, access control, errors, cache. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubmergeError, isHubmergeError } from "../../src/errors.js";
import type { RetryOptions } from "../../src/hub/client/retrying-fetch.js";
import type { ModelRef } from "../../src/model-ref.js";
import { HubSource, type HubSourceOptions } from "../../src/source/hub-source.js";
import { ALICE, BOB, binaryBytes, startTestHub, type TestHub } from "../localhub/helpers.js";

let t: TestHub;
let pinned = "";
const weights = binaryBytes(300_000, 11);
const config = JSON.stringify({ model_type: "llama", hidden_size: 32 });
const readme =
  "---\nlicense: apache-2.0\npipeline_tag: text-generation\nbase_model: acme/base\n---\n# Model\n";
const sleeps: number[] = [];
const fastRetry: RetryOptions = { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 };

beforeAll(async () => {
  t = await startTestHub();
  await t.hub.admin.createRepo("alice/model");
  pinned = await t.hub.admin.commit("alice/model", {
    "config.json": config,
    "README.md": readme,
    "model.safetensors": weights,
    "sub/notes.txt": "nested",
  });
  await t.hub.admin.createRepo("alice/secret", { private: true });
  await t.hub.admin.commit("alice/secret", { "config.json": config });
  await t.hub.admin.createRepo("alice/gated", { gated: true });
  await t.hub.admin.commit("alice/gated", { "config.json": config });
});
afterAll(() => t.stop());

function hubRef(raw: string): ModelRef {
  const [repo, revision] = raw.split("@");
  return { raw, kind: "hub", repo, revision };
}

function resolve(raw: string, options: Partial<HubSourceOptions> = {}): Promise<HubSource> {
  return HubSource.resolve(hubRef(raw), { hub: { hubUrl: t.hub.url }, retry: fastRetry, ...options });
}

function byStart(a: string | undefined, b: string | undefined): number {
  return Number(/=(\d+)/.exec(a ?? "")?.[1]) - Number(/=(\d+)/.exec(b ?? "")?.[1]);
}

/** Buffer comparison: vitest's deep equality is slow on large typed arrays. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(actual).equals(expected)).toBe(true);
}

async function failure(promise: Promise<unknown>): Promise<HubmergeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a HubmergeError").toBeInstanceOf(HubmergeError);
  return error as HubmergeError;
}

describe("pinning", () => {
  it("resolves the default branch to its sha and lists files with real sizes", async () => {
    const source = await resolve("alice/model");
    expect(source.revision).toBe(pinned);
    expect(source.requestedRevision).toBeUndefined();
    expect(await source.listFiles()).toEqual([
      ".gitattributes",
      "README.md",
      "config.json",
      "model.safetensors",
      "sub/notes.txt",
    ]);
    expect(source.file("model.safetensors")).toMatchObject({ size: weights.byteLength });
    expect(source.file("model.safetensors")?.lfsOid).toMatch(/^[0-9a-f]{64}$/);
    expect(new TextDecoder().decode((await source.readFile("sub/notes.txt"))!)).toBe("nested");
    expect(await source.readFile("missing.json")).toBeNull();
  });

  it("keeps reading the pinned sha after a new commit lands on the branch", async () => {
    await t.hub.admin.createRepo("alice/moving");
    const first = await t.hub.admin.commit("alice/moving", { "config.json": '{"v":1}' });
    const source = await resolve("alice/moving@main");
    expect(source.revision).toBe(first);
    const second = await t.hub.admin.commit("alice/moving", { "config.json": '{"v":2}', "extra.txt": "x" });
    expect(new TextDecoder().decode((await source.readFile("config.json"))!)).toBe('{"v":1}');
    expect(await source.listFiles()).not.toContain("extra.txt");
    const fresh = await resolve("alice/moving");
    expect(fresh.revision).toBe(second);
    const bySha = await resolve(`alice/moving@${first}`);
    expect(new TextDecoder().decode((await bySha.readFile("config.json"))!)).toBe('{"v":1}');
  });

  it("reads the card's front matter", async () => {
    const source = await resolve("alice/model");
    expect(await source.cardData()).toMatchObject({ license: "apache-2.0", pipeline_tag: "text-generation" });
  });
});

describe("range reads", () => {
  it("returns exact bytes at any offset and splits large reads into bounded ranges", async () => {
    const source = await resolve("alice/model", { maxRangeBytes: 40_000 });
    const file = await source.open("model.safetensors");
    expect(file.size).toBe(weights.byteLength);
    for (const [offset, length] of [
      [0, 8],
      [12_345, 1],
      [299_990, 10],
      [0, 0],
    ] as const) {
      expectBytes(await file.read(offset, length), weights.subarray(offset, offset + length));
    }
    t.hub.requests.clear();
    expectBytes(await file.read(5, 200_000), weights.subarray(5, 200_005));
    // The parts go out at once, over several connections: their arrival order is not fixed.
    const ranges = t.hub.requests.matching({ pathIncludes: "/resolve/" }).map((r) => r.range);
    expect(ranges.sort(byStart)).toEqual([
      "bytes=5-40004",
      "bytes=40005-80004",
      "bytes=80005-120004",
      "bytes=120005-160004",
      "bytes=160005-200004",
    ]);
    await expect(file.read(299_999, 2)).rejects.toThrow(RangeError);
  });

  it("gives identical bytes under cut connections, 500/503 and 429 with Retry-After", async () => {
    const source = await resolve("alice/model", { maxRangeBytes: 64_000 });
    const file = await source.open("model.safetensors");
    sleeps.length = 0;
    const onResolve = { pathIncludes: "/resolve/" };
    t.hub.faults.set([
      { kind: "rate429", retryAfterSeconds: 2, rate: 0.15, match: onResolve },
      { kind: "status503", rate: 0.1, match: onResolve },
      { kind: "status500", rate: 0.1, match: onResolve },
      { kind: "cutBody", rate: 0.6, match: onResolve },
    ]);
    try {
      expectBytes(await file.read(0, weights.byteLength), weights);
      expectBytes(await file.read(1_000, 150_000), weights.subarray(1_000, 151_000));
      expect(new TextDecoder().decode((await source.readFile("README.md"))!)).toBe(readme);
      const counts = t.hub.faults.counts;
      expect(counts.cutBody).toBeGreaterThan(3);
      expect(counts.rate429 + counts.status500 + counts.status503).toBeGreaterThan(0);
      if (counts.rate429 > 0) expect(sleeps).toContain(2000);
    } finally {
      t.hub.faults.clear();
    }
  });

  it("resumes a cut body from the byte it reached", async () => {
    const source = await resolve("alice/model");
    const file = await source.open("model.safetensors");
    t.hub.faults.set([{ kind: "cutBody", times: 1, match: { pathIncludes: "/resolve/" } }]);
    t.hub.requests.clear();
    try {
      expectBytes(await file.read(100, 100_000), weights.subarray(100, 100_100));
    } finally {
      t.hub.faults.clear();
    }
    const ranges = t.hub.requests.matching({ pathIncludes: "/resolve/" }).map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBe("bytes=100-100099");
    const resumedAt = Number(/bytes=(\d+)-/.exec(ranges[1]!)![1]);
    expect(resumedAt).toBeGreaterThan(100);
    expect(ranges[1]).toBe(`bytes=${resumedAt}-100099`);
  });

  it("fails with E_NETWORK once the retry budget is spent", async () => {
    const source = await resolve("alice/model", { retry: { ...fastRetry, retries: 2 } });
    const file = await source.open("model.safetensors");
    t.hub.faults.set([{ kind: "status503", match: { pathIncludes: "/resolve/" } }]);
    try {
      const error = await failure(file.read(0, 10));
      expect(error.code).toBe("E_NETWORK");
      expect(error.message).toContain("alice/model");
      expect(error.message).toContain("503");
    } finally {
      t.hub.faults.clear();
    }
  });
});

describe("access and errors", () => {
  it("private repo: without a token a clear not-found error, with the owner's token it works", async () => {
    const error = await failure(resolve("alice/secret"));
    expect(error.code).toBe("E_HUB_NOT_FOUND");
    expect(error.message).toContain("alice/secret");
    expect(error.hint).toMatch(/HF_TOKEN|--token/);
    expect(error.where.model).toBe("alice/secret");
    const source = await resolve("alice/secret", { hub: { hubUrl: t.hub.url, token: ALICE } });
    expect(await source.readFile("config.json")).not.toBeNull();
  });

  it("gated repo: a clear E_HUB_AUTH with the license hint until the user accepted the gate", async () => {
    const anonymous = await resolve("alice/gated");
    const first = await failure(anonymous.readFile("config.json"));
    expect(first.code).toBe("E_HUB_AUTH");
    expect(first.hint).toContain("accept the license on the model page and use a token with read access");
    expect(first.message).toContain("alice/gated");
    const bob = await resolve("alice/gated", { hub: { hubUrl: t.hub.url, token: BOB } });
    const second = await failure(bob.readFile("config.json"));
    expect(second.code).toBe("E_HUB_AUTH");
    expect(second.format()).not.toContain(BOB);
    await t.hub.admin.acceptGate("alice/gated", "bob");
    expect(new TextDecoder().decode((await bob.readFile("config.json"))!)).toBe(config);
  });

  it("names the missing repo, revision or file", async () => {
    const repo = await failure(resolve("alice/nope"));
    expect(repo.code).toBe("E_HUB_NOT_FOUND");
    expect(repo.message).toContain("alice/nope");
    const revision = await failure(resolve("alice/model@no-such-branch"));
    expect(revision.code).toBe("E_HUB_NOT_FOUND");
    expect(revision.message).toContain("no-such-branch");
    expect(revision.message).toContain("alice/model");
    const source = await resolve("alice/model");
    const file = await failure(source.open("model-00002-of-00002.safetensors"));
    expect(file.code).toBe("E_HUB_NOT_FOUND");
    expect(file.message).toContain("model-00002-of-00002.safetensors");
  });

  it("a bad token is E_HUB_AUTH and never appears in the error", async () => {
    const token = "hf_this_token_is_unknown_123";
    const error = await failure(resolve("alice/model", { hub: { hubUrl: t.hub.url, token } }));
    expect(error.code).toBe("E_HUB_AUTH");
    expect(`${error.format()} ${String(error.stack)}`).not.toContain(token);
  });
});

describe("cache", () => {
  let cacheDir = "";
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "hub-cache-test-"));
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it("serves cached blocks and listings without new requests", async () => {
    const options = { cacheDir, cacheBlockBytes: 64 * 1024 };
    const first = await resolve("alice/model", options);
    const file = await first.open("model.safetensors");
    expectBytes(await file.read(70_000, 100_000), weights.subarray(70_000, 170_000));
    expect(await first.readFile("config.json")).not.toBeNull();
    t.hub.requests.clear();
    const second = await resolve("alice/model", options);
    const again = await second.open("model.safetensors");
    expectBytes(await again.read(65_536, 131_072), weights.subarray(65_536, 196_608));
    expect(new TextDecoder().decode((await second.readFile("config.json"))!)).toBe(config);
    expect(t.hub.requests.matching({ pathIncludes: "/resolve/" })).toHaveLength(0);
    expect(t.hub.requests.matching({ pathIncludes: "/tree/" })).toHaveLength(0);
    // A large read outside the cached blocks fetches its blocks whole; a small one only its span,
    // unless blocks on disk cover it; a small span is cached for the next run.
    expectBytes(await again.read(200_000, 99_000), weights.subarray(200_000, 299_000));
    expectBytes(await again.read(299_000, 1_000), weights.subarray(299_000));
    expectBytes(await again.read(40, 8), weights.subarray(40, 48));
    const third = await (await resolve("alice/model", options)).open("model.safetensors");
    expectBytes(await third.read(40, 8), weights.subarray(40, 48));
    expect(t.hub.requests.matching({ pathIncludes: "/resolve/" }).map((r) => r.range)).toEqual([
      "bytes=196608-262143",
      "bytes=262144-299999",
      "bytes=40-47",
    ]);
  });

  it("ignores a cached block of the wrong size", async () => {
    const { writeFile, readdir } = await import("node:fs/promises");
    const blocks = join(cacheDir, "blocks");
    const [key] = (await readdir(blocks)).filter((k) => k.startsWith("sha256-"));
    await writeFile(join(blocks, key!, `${64 * 1024}-0`), "short");
    const source = await resolve("alice/model", { cacheDir, cacheBlockBytes: 64 * 1024 });
    const file = await source.open("model.safetensors");
    expectBytes(await file.read(0, 100), weights.subarray(0, 100));
  });
});

it("isHubmergeError sees the codes", async () => {
  expect(isHubmergeError(await failure(resolve("alice/nope")), "E_HUB_NOT_FOUND")).toBe(true);
});
