/**
 * Whole merges over a measured link (issue 15): sources on a paced local Hub in CDN mode, read
 * with 1 and 16 connections, through cut connections, 503s and 429s on a large share of range
 * requests and signed URLs that expire mid-run. The weights equal the merge of the same models
 * from local folders, byte for byte (DARE masks depend on the model references, so a DARE merge
 * from the Hub is compared with the same merge read one range at a time, without read-ahead);
 * the token never reaches the CDN; read-ahead stays within its budget even when a tensor is
 * larger than the budget.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RetryOptions } from "../../src/hub/client/retrying-fetch.js";
import type { UnitReads } from "../../src/merge/unit-reads.js";
import { runMerge } from "../../src/pipeline/index.js";
import { createSourceResolver, type SourceResolverOptions } from "../../src/source/hub-resolver.js";
import type { TinyLlamaSpec } from "../../src/synth/tiny-llama.js";
import { ALICE, startTestHub, type TestHub } from "../localhub/helpers.js";
import { TEST_LLAMA, writeFamily, writeManifest } from "../support/models.js";
import { folderFiles } from "../support/hub-models.js";

const fastRetry: RetryOptions = { sleep: async () => undefined, random: () => 0 };
/** A vocabulary large enough for an embedding (128 KiB of bf16) above the small budgets below. */
const SPEC: TinyLlamaSpec = { ...TEST_LLAMA, vocabSize: 2048 };
/** The CDN's clock: moved by each CDN request in the faults test, so URLs expire mid-run. */
let clock = Date.parse("2026-04-01T00:00:00Z");
let t: TestHub;
let dir = "";
const local: Record<string, string> = {};

const manifest = (
  method: string,
  refs: { base: string; ft1: string; ft2: string },
) => `merge_method: ${method}
base_model: ${refs.base}
models:
  - model: ${refs.ft1}
    parameters: {weight: 0.6, density: 0.4}
  - model: ${refs.ft2}
    parameters: {weight: 0.4, density: 0.6}
dtype: bfloat16
hubmerge: {seed: 11}
`;
const HUB_REFS = { base: "alice/base", ft1: "alice/ft1", ft2: "alice/ft2" };

beforeAll(async () => {
  t = await startTestHub({
    pacing: { perConnection: 4e6, total: 16e6, latencyMs: 2 },
    cdn: { ttlMs: 20_000, now: () => clock },
  });
  dir = await mkdtemp(join(tmpdir(), "hubmerge-link-"));
  const family = await writeFamily(dir, { spec: SPEC });
  // Manifests name local folders relative to themselves (absolute paths are refused).
  const rel = (folder: string) => `./${relative(dir, folder)}`;
  Object.assign(local, {
    base: rel(family.base),
    ft1: rel(family.fineTunes[0]!),
    ft2: rel(family.fineTunes[1]!),
  });
  for (const name of ["base", "ft1", "ft2"]) {
    await t.hub.admin.createRepo(`alice/${name}`, { private: true });
    await t.hub.admin.commit(`alice/${name}`, await folderFiles(join(dir, local[name]!)));
  }
});
afterAll(async () => {
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

/** DARE from the Hub read the plain way: one connection, nothing ahead, no faults. */
let dareBaseline: Promise<Record<string, Uint8Array>> | undefined;
function dareFromHubPlainly(): Promise<Record<string, Uint8Array>> {
  dareBaseline ??= hubMerge("dare_ties", "dare-plain", { connections: 1 }, { readAheadBytes: 0 });
  return dareBaseline;
}

/** The weights of a merge output: every .safetensors file (cards and records name the sources). */
async function weightsOf(folder: string): Promise<Record<string, Uint8Array>> {
  const files = await folderFiles(folder);
  return Object.fromEntries(Object.entries(files).filter(([path]) => path.endsWith(".safetensors")));
}

function expectSameWeights(actual: Record<string, Uint8Array>, expected: Record<string, Uint8Array>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [path, bytes] of Object.entries(expected)) {
    expect(Buffer.from(actual[path]!).equals(bytes), path).toBe(true);
  }
}

async function localMerge(method: string): Promise<Record<string, Uint8Array>> {
  const path = await writeManifest(dir, manifest(method, local as typeof HUB_REFS), `local-${method}.yaml`);
  const out = join(dir, `local-${method}`);
  await runMerge({ manifestPath: path, out });
  return weightsOf(out);
}

async function hubMerge(
  method: string,
  label: string,
  resolver: Partial<SourceResolverOptions>,
  run: { readAheadBytes?: number; pieceElements?: number; onReads?: (reads: UnitReads) => void } = {},
): Promise<Record<string, Uint8Array>> {
  const path = await writeManifest(dir, manifest(method, HUB_REFS), `hub-${label}.yaml`);
  const out = join(dir, label);
  await runMerge({
    manifestPath: path,
    out,
    resolver: createSourceResolver({
      hub: { hubUrl: t.hub.url, token: ALICE },
      retry: fastRetry,
      minPartBytes: 4096,
      ...resolver,
    }),
    ...run,
  });
  return weightsOf(out);
}

describe("merging over a paced link with CDN redirects", () => {
  it("gives the local merge's bytes with 1 and with 16 connections, and never sends the token to the CDN", async () => {
    const expected = await localMerge("task_arithmetic");
    t.hub.cdn!.requests.length = 0;
    const pieces = { pieceElements: 4096 };
    expectSameWeights(await hubMerge("task_arithmetic", "one", { connections: 1 }, pieces), expected);
    expectSameWeights(await hubMerge("task_arithmetic", "sixteen", { connections: 16 }, pieces), expected);
    const dare = await dareFromHubPlainly();
    expectSameWeights(await hubMerge("dare_ties", "dare-sixteen", { connections: 16 }, pieces), dare);
    const cdn = t.hub.cdn!.requests;
    expect(cdn.length).toBeGreaterThan(10);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(cdn.some((r) => JSON.stringify(r.headers).includes(ALICE))).toBe(false);
  });

  it("gives the same bytes through cut connections, 503, 429 and signed URLs expiring mid-run", async () => {
    const expected = await dareFromHubPlainly();
    t.hub.cdn!.requests.length = 0;
    t.hub.faults.resetCounts();
    const onCdn = (req: { path: string }) => req.path.startsWith("/cdn-lfs/");
    t.hub.faults.set([
      // Never fires: moves the CDN's clock 100 ms per request, so a URL lives 200 requests.
      { kind: "status500", match: (req) => (onCdn(req) && (clock += 100), false) },
      { kind: "cutBody", rate: 0.25, match: onCdn },
      { kind: "status503", rate: 0.15, match: onCdn },
      { kind: "rate429", rate: 0.15, retryAfterSeconds: 1, match: onCdn },
    ]);
    try {
      const faulty = await hubMerge("dare_ties", "faulty", { connections: 16 }, { pieceElements: 4096 });
      expectSameWeights(faulty, expected);
    } finally {
      t.hub.faults.clear();
    }
    const counts = t.hub.faults.counts;
    expect(counts.cutBody).toBeGreaterThan(5);
    expect(counts.status503 + counts.rate429).toBeGreaterThan(5);
    // Expired URLs were refused and the files resolved again.
    const refused = t.hub.cdn!.requests.filter((r) => r.status === 403);
    expect(refused.length).toBeGreaterThan(0);
  });

  it("keeps read-ahead within a small budget when a tensor is larger than the budget", async () => {
    const budget = 64 * 1024;
    // ties merges whole tensors, so the 128 KiB embeddings are read whole: never ahead.
    const expected = await localMerge("ties");
    let reads: UnitReads | undefined;
    const merged = await hubMerge(
      "ties",
      "small-budget",
      { connections: 16 },
      { readAheadBytes: budget, onReads: (r) => (reads = r) },
    );
    expectSameWeights(merged, expected);
    const ahead = reads!.readAhead;
    expect(ahead.budgetBytes).toBe(budget);
    expect(ahead.peakHeldBytes).toBeGreaterThan(0);
    expect(ahead.peakHeldBytes).toBeLessThanOrEqual(budget);
    expect(ahead.heldBytes).toBe(0);
    expect(reads!.totalBytes).toBeGreaterThan(3 * SPEC.vocabSize * SPEC.hiddenSize * 2);
  });
});
