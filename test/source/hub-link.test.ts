/**
 * HubSource over a link like the real Hub's: resolve redirects LFS files to a CDN origin with
 * signed, expiring URLs, and reads are split across a shared budget of connections.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import type { RetryOptions } from "../../src/hub/client/retrying-fetch.js";
import { ConnectionBudget } from "../../src/source/connection-budget.js";
import { HubSource, type HubSourceOptions } from "../../src/source/hub-source.js";
import { ALICE, binaryBytes, startTestHub, type TestHub } from "../localhub/helpers.js";

const fastRetry: RetryOptions = { sleep: async () => undefined, random: () => 0 };
const weights = binaryBytes(400_000, 21);
/** A whole second, so a URL signed with ttl 0 is already expired when checked. */
let clock = Date.parse("2026-03-01T00:00:00Z");
let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ cdn: { ttlMs: 10_000, now: () => clock } });
  await t.hub.admin.createRepo("alice/private", { private: true });
  await t.hub.admin.commit("alice/private", { "model.safetensors": weights, "config.json": "{}" });
});
afterAll(() => t.stop());

function resolve(options: Partial<HubSourceOptions> = {}): Promise<HubSource> {
  return HubSource.resolve(
    { raw: "alice/private", kind: "hub", repo: "alice/private" },
    { hub: { hubUrl: t.hub.url, token: ALICE }, retry: fastRetry, ...options },
  );
}

function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(actual).equals(expected)).toBe(true);
}

const resolves = () => t.hub.requests.matching({ pathIncludes: "/resolve/" }).length;

describe("CDN redirects", () => {
  it("follows the redirect without sending the token to the CDN, and reuses the signed URL", async () => {
    const file = await (await resolve()).open("model.safetensors");
    t.hub.requests.clear();
    t.hub.cdn!.requests.length = 0;
    expectBytes(await file.read(0, 1000), weights.subarray(0, 1000));
    expectBytes(await file.read(5000, 100_000), weights.subarray(5000, 105_000));
    expectBytes(await file.read(399_000, 1000), weights.subarray(399_000));
    expect(resolves()).toBe(1);
    const cdn = t.hub.cdn!.requests;
    expect(cdn.length).toBeGreaterThanOrEqual(3);
    for (const request of cdn) {
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify(request.headers)).not.toContain(ALICE);
    }
  });

  it("resolves again when the signed URL expires mid-run, and reads the same bytes", async () => {
    const file = await (await resolve()).open("model.safetensors");
    expectBytes(await file.read(0, 10), weights.subarray(0, 10));
    t.hub.requests.clear();
    t.hub.cdn!.requests.length = 0;
    clock += 11_000; // past the URL's expiry
    expectBytes(await file.read(100, 50_000), weights.subarray(100, 50_100));
    // Statuses are recorded when the server closes each answer, which may trail the client a little.
    await vi.waitFor(() => expect(t.hub.cdn!.requests.map((r) => r.status)).toEqual([403, 206]));
    expect(resolves()).toBe(1);
    expectBytes(await file.read(60_000, 10), weights.subarray(60_000, 60_010));
    expect(resolves()).toBe(1);
  });

  it("fails, rather than loops, when even a fresh URL is refused", async () => {
    const stale = await startTestHub({ cdn: { ttlMs: 0, now: () => clock } });
    try {
      await stale.hub.admin.createRepo("alice/stale");
      await stale.hub.admin.commit("alice/stale", { "model.safetensors": weights });
      const source = await HubSource.resolve(
        { raw: "alice/stale", kind: "hub", repo: "alice/stale" },
        { hub: { hubUrl: stale.hub.url, token: ALICE }, retry: fastRetry },
      );
      const file = await source.open("model.safetensors");
      await file.read(0, 10).then(
        () => expect.unreachable("an expired URL must not be served"),
        (error: unknown) => {
          expect(error).toBeInstanceOf(HubmergeError);
          expect((error as HubmergeError).code).toBe("E_HUB_AUTH");
          expect((error as HubmergeError).message).not.toContain(ALICE);
        },
      );
      // The first URL and three fresh ones, each refused: then the refusal is final.
      expect(stale.hub.requests.matching({ pathIncludes: "/resolve/" })).toHaveLength(4);
    } finally {
      await stale.stop();
    }
  });
});

describe("parallel range streams", () => {
  it("splits a read into one part per connection, and concurrent reads share the budget", async () => {
    const budget = new ConnectionBudget(3);
    const file = await (
      await resolve({ connections: budget, minPartBytes: 10_000 })
    ).open("model.safetensors");
    t.hub.cdn!.requests.length = 0;
    const [a, b] = await Promise.all([file.read(7, 300_000), file.read(350_000, 45_000)]);
    expectBytes(a, weights.subarray(7, 300_007));
    expectBytes(b, weights.subarray(350_000, 395_000));
    const ranges = t.hub.cdn!.requests.map((r) => r.range).sort();
    expect(ranges).toEqual(
      [
        "bytes=7-100006",
        "bytes=100007-200006",
        "bytes=200007-300006",
        // Parts are never smaller than minPartBytes: 45,000 bytes make 3 parts of 15,000.
        "bytes=350000-364999",
        "bytes=365000-379999",
        "bytes=380000-394999",
      ].sort(),
    );
    expect(budget.peak).toBe(3);
  });

  it("gives the same bytes with cut connections, 503 and 429 on a large share of range requests", async () => {
    const file = await (await resolve({ connections: 16, minPartBytes: 8_000 })).open("model.safetensors");
    t.hub.faults.resetCounts();
    t.hub.faults.set([
      { kind: "cutBody", rate: 0.3, match: { pathIncludes: "/cdn-lfs/" } },
      { kind: "status503", rate: 0.15, match: { pathIncludes: "/cdn-lfs/" } },
      { kind: "rate429", rate: 0.15, retryAfterSeconds: 1, match: { pathIncludes: "/cdn-lfs/" } },
    ]);
    try {
      expectBytes(await file.read(0, weights.byteLength), weights);
    } finally {
      t.hub.faults.clear();
    }
    const counts = t.hub.faults.counts;
    expect(counts.cutBody).toBeGreaterThan(3);
    expect(counts.status503 + counts.rate429).toBeGreaterThan(3);
  });

  it("the budget rejects a size below one", () => {
    expect(() => new ConnectionBudget(0)).toThrow(RangeError);
  });
});
