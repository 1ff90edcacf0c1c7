/**
 * The resolver in a real merge: sources uploaded to the local Hub, merged from it under injected
 * faults (identical bytes to a clean run), merged again from the cache without a single
 * resolve request, then published and downloaded back.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishFolder } from "../../src/hub/publish/publish.js";
import type { RetryOptions } from "../../src/hub/client/retrying-fetch.js";
import { runMerge } from "../../src/pipeline/index.js";
import { createSourceResolver } from "../../src/source/hub-resolver.js";
import { HubSource } from "../../src/source/hub-source.js";
import { LocalSource } from "../../src/source/local-source.js";
import { ALICE, startTestHub, type TestHub } from "../localhub/helpers.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { folderFiles } from "../support/hub-models.js";

const tempDir = useTempDirs();
const fastRetry: RetryOptions = { sleep: async () => undefined, random: () => 0 };
let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t.stop());

const MANIFEST = `merge_method: dare_ties
base_model: alice/base
models:
  - model: alice/ft1
    parameters: {weight: 0.6, density: 0.3}
  - model: alice/ft2
    parameters: {weight: 0.4, density: 0.5}
dtype: bfloat16
hubmerge: {seed: 7}
`;

function expectSameFiles(actual: Record<string, Uint8Array>, expected: Record<string, Uint8Array>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [path, bytes] of Object.entries(expected)) {
    if (path === "hubmerge.json") {
      expect(cachedRunRecord(actual[path]!)).toBe(Buffer.from(bytes).toString("utf8"));
      continue;
    }
    expect(Buffer.from(actual[path]!).equals(bytes), path).toBe(true);
  }
}

/** A cached run's record says its source bytes were verified; the rest is the clean run's record. */
function cachedRunRecord(bytes: Uint8Array): string {
  const record = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
  expect(record["sourceCache"]).toBe("verified");
  delete record["sourceCache"];
  return JSON.stringify(record, null, 2) + "\n";
}

describe("createSourceResolver", () => {
  it("opens local folders as LocalSource and Hub references as pinned HubSources", async () => {
    const dir = await tempDir();
    await t.hub.admin.createRepo("alice/tiny");
    const sha = await t.hub.admin.commit("alice/tiny", { "config.json": "{}" });
    const resolver = createSourceResolver({ hub: { hubUrl: t.hub.url }, retry: fastRetry });
    const local = await resolver({ raw: "./m", kind: "local", path: dir });
    expect(local).toBeInstanceOf(LocalSource);
    const hub = await resolver({ raw: "alice/tiny", kind: "hub", repo: "alice/tiny" });
    expect(hub).toBeInstanceOf(HubSource);
    expect(hub.revision).toBe(sha);
  });

  it("merges from the Hub under faults with the same bytes, then from the cache alone", async () => {
    const dir = await tempDir();
    const family = await writeFamily(dir);
    for (const [name, path] of [
      ["base", family.base],
      ...family.fineTunes.map((p, i) => [`ft${i + 1}`, p]),
    ]) {
      await t.hub.admin.createRepo(`alice/${name}`);
      await t.hub.admin.commit(`alice/${name}`, await folderFiles(path!));
    }
    const manifestPath = await writeManifest(dir, MANIFEST);
    const plain = createSourceResolver({ hub: { hubUrl: t.hub.url }, retry: fastRetry });
    const clean = await runMerge({ manifestPath, out: join(dir, "clean"), resolver: plain });
    expect(clean.record.sources.map((s) => s.revision)).toEqual(
      ["alice/base", "alice/ft1", "alice/ft2"].map((r) => t.hub.admin.head(r)),
    );
    const expected = await folderFiles(join(dir, "clean"));

    const cacheDir = join(dir, "cache");
    const cached = createSourceResolver({ hub: { hubUrl: t.hub.url }, retry: fastRetry, cacheDir });
    t.hub.faults.resetCounts();
    t.hub.faults.set([
      // Reads run concurrently, so which requests get cut varies from run to run: at 0.5, a range
      // halved down to its last byte (a cut then brings nothing) would too often stall 7 times.
      { kind: "cutBody", rate: 0.3, match: { pathIncludes: "/resolve/" } },
      { kind: "status503", rate: 0.1 },
      { kind: "rate429", rate: 0.1, retryAfterSeconds: 1 },
    ]);
    // In pieces (ranged reads straight into shared buffers), through cut bodies, 503s and 429s.
    const pieces = { pieceElements: 80 };
    await runMerge({ manifestPath, out: join(dir, "faulty"), resolver: cached, ...pieces }).finally(() =>
      t.hub.faults.clear(),
    );
    expect(t.hub.faults.counts.cutBody).toBeGreaterThan(0);
    expectSameFiles(await folderFiles(join(dir, "faulty")), expected);

    t.hub.requests.clear();
    await runMerge({ manifestPath, out: join(dir, "again"), resolver: cached, ...pieces });
    expect(t.hub.requests.matching({ pathIncludes: "/resolve/" })).toHaveLength(0);
    expect(t.hub.requests.matching({ pathIncludes: "/tree/" })).toHaveLength(0);
    expectSameFiles(await folderFiles(join(dir, "again")), expected);

    const published = await publishFolder({
      hub: { hubUrl: t.hub.url, token: ALICE },
      repo: "alice/merged",
      dir: join(dir, "faulty"),
      private: false,
      overwrite: false,
      commitTitle: "Merge alice/ft1 and alice/ft2 into alice/base",
      retry: fastRetry,
    });
    const back = await HubSource.resolve(
      { raw: "alice/merged", kind: "hub", repo: "alice/merged", revision: published.commitSha },
      { hub: { hubUrl: t.hub.url } },
    );
    for (const [path, bytes] of Object.entries(await folderFiles(join(dir, "faulty")))) {
      expect(Buffer.from((await back.readFile(path))!).equals(bytes), path).toBe(true);
    }
  });
});
