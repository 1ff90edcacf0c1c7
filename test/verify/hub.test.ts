import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { publishMerge, runMerge, verifyMerge, type MergeRunResult } from "../../src/pipeline/index.js";
import type { RunRecord } from "../../src/run-record.js";
import { hubSession } from "../../src/session.js";
import { writeTinyLlama, type TinyLlamaSpec } from "../../src/synth/tiny-llama.js";
import { runCli } from "../support/cli.js";
import { seedHubModel } from "../support/hub-models.js";
import { TEST_LLAMA, writeManifest } from "../support/models.js";

const TOKEN = "hf_acme_verify_token_0123456789";
/** Eight layers, so that headers and the record are small beside the weights (2.4 MB). */
const SPEC: TinyLlamaSpec = {
  ...TEST_LLAMA,
  hiddenSize: 128,
  layers: 8,
  intermediateSize: 256,
  vocabSize: 256,
};
const MANIFEST = `merge_method: dare_ties
base_model: acme/base
models:
  - model: acme/ft1
    parameters: {weight: 0.5, density: 0.3}
  - model: acme/ft2
    parameters: {weight: 0.5, density: 0.3}
dtype: bfloat16
hubmerge:
  output: {repo: acme/merged}
  seed: 5
`;

let hub: LocalHub;
let root: string;
let merged: MergeRunResult;
let cleanSha: string;
/** Bytes of response bodies the local Hub served for files of the merge and of its sources. */
let servedMerged = 0;
let servedSources = 0;

const countingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const merged = url.includes("/acme/merged/resolve/");
  if (!(merged || /\/acme\/(base|ft1|ft2)\/resolve\//.test(url)) || !response.body) return response;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (merged) servedMerged += chunk.byteLength;
      else servedSources += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), response);
};

const session = () => hubSession({ hubUrl: hub.url, token: TOKEN }, { fetch: countingFetch });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hubmerge-verify-hub-"));
  hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: TOKEN, user: "acme" }] });
  for (const [name, delta] of [
    ["base", 0],
    ["ft1", 101],
    ["ft2", 102],
  ] as const) {
    const dir = join(root, name);
    await writeTinyLlama(dir, SPEC, {
      baseSeed: 1,
      ...(delta ? { delta: { seed: delta, std: 0.004 } } : {}),
    });
    await seedHubModel(hub, `acme/${name}`, dir);
  }
  merged = await runMerge({
    manifestPath: await writeManifest(root, MANIFEST),
    out: join(root, "out"),
    resolver: session().resolver,
    maxShardBytes: 700_000,
  });
  await publishMerge(merged, { hub: { hubUrl: hub.url, token: TOKEN } });
  cleanSha = hub.admin.head("acme/merged");
}, 60_000);

afterAll(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

/** Model bytes of the published merge (its shards' data, headers included). */
const modelBytes = () =>
  merged.record.files.filter((f) => f.path.endsWith(".safetensors")).reduce((s, f) => s + f.size, 0);

describe("hubmerge verify against the Hub", () => {
  it("matches a published sharded merge in sample mode, reading no more than P + 5% of it, and says exactly what it read", async () => {
    expect(merged.record.files.filter((f) => f.path.endsWith(".safetensors")).length).toBeGreaterThan(2);
    servedMerged = 0;
    servedSources = 0;
    const report = await verifyMerge({
      target: `acme/merged@${cleanSha}`,
      resolver: session().resolver,
      seedDraw: 11,
    });
    expect(report.verdicts.filter((v) => !v.ok)).toEqual([]);
    expect(report.target).toBe(`acme/merged@${cleanSha}`);
    expect(report.bytesRead.published).toBe(servedMerged);
    expect(report.bytesRead.sources).toBe(servedSources);
    expect(report.bytesRead.published).toBeLessThanOrEqual((0.02 + 0.05) * modelBytes());
    expect(report.tensors.bytes).toBeGreaterThan(0);
    const layers = new Set(
      report.verdicts
        .filter((v) => v.check === "re-created" && v.kind === "tensor")
        .map((v) => /layers\.(\d+)\./.exec(v.subject)?.[1]),
    );
    for (let i = 0; i < SPEC.layers; i++) expect(layers.has(String(i))).toBe(true);
  });

  it("matches in full mode, comparing every shard's sha256", async () => {
    const report = await verifyMerge({
      target: `acme/merged@${cleanSha}`,
      resolver: session().resolver,
      full: true,
    });
    expect(report.ok).toBe(true);
    const shards = report.verdicts.filter((v) => v.kind === "shard" && v.check === "re-created");
    expect(shards.map((v) => v.subject)).toEqual(
      merged.record.files.filter((f) => f.path.endsWith(".safetensors")).map((f) => f.path),
    );
  });

  it("draws the same sample from the same --seed-draw, and prints the seed it drew", async () => {
    const a = await verifyMerge({
      target: `acme/merged@${cleanSha}`,
      resolver: session().resolver,
      seedDraw: 99,
    });
    const b = await verifyMerge({
      target: `acme/merged@${cleanSha}`,
      resolver: session().resolver,
      seedDraw: 99,
    });
    const names = (r: typeof a) => r.verdicts.map((v) => `${v.check} ${v.subject}`);
    expect(names(b)).toEqual(names(a));
    const cli = await runCli(["verify", `acme/merged@${cleanSha}`, "--hub-url", hub.url], {
      env: { HF_TOKEN: TOKEN },
    });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/drawn with --seed-draw \d+/);
    expect(cli.stdout).toContain("verdict: MATCH");
  });

  it("fails with exit 12 naming the tensor when one byte of one shard changes on the Hub", async () => {
    const digest = merged.record.tensors!.find((t) => t.name === "model.embed_tokens.weight")!;
    const bytes = new Uint8Array(await readFile(join(merged.outDir, digest.shard)));
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
      string,
      { data_offsets: number[] }
    >;
    bytes[8 + headerLength + header[digest.name]!.data_offsets[0]! + 5]! ^= 0x01;
    await hub.admin.commit("acme/merged", { [digest.shard]: bytes }, "tamper");
    const cli = await runCli(["verify", "acme/merged", "--hub-url", hub.url], { env: { HF_TOKEN: TOKEN } });
    expect(cli.code).toBe(12);
    const actual = createHash("sha256")
      .update(
        bytes.subarray(
          8 + headerLength + header[digest.name]!.data_offsets[0]!,
          8 + headerLength + header[digest.name]!.data_offsets[1]!,
        ),
      )
      .digest("hex");
    expect(cli.stderr).toContain(
      `[E_VERIFY] tensor model.embed_tokens.weight: the published tensor does not match the record (expected ${digest.sha256}, got ${actual})`,
    );
    expect(cli.stderr).toContain("suspect a tampered file");
    expect(cli.stdout).toContain("verdict: MISMATCH");
  });

  it("fails naming the source when the recorded commit of a source is not in its repo", async () => {
    const out = join(root, "copy");
    await cp(merged.outDir, out, { recursive: true });
    const record = JSON.parse(await readFile(join(out, "hubmerge.json"), "utf8")) as RunRecord;
    record.sources.find((s) => s.ref === "acme/ft2")!.revision = "0".repeat(40);
    await writeFile(join(out, "hubmerge.json"), JSON.stringify(record));
    const error = await verifyMerge({ target: out, resolver: session().resolver }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_VERIFY", where: { model: "acme/ft2" } });
    expect((error as Error).message).toBe(
      `source acme/ft2 at revision ${"0".repeat(40)} is no longer reachable`,
    );
  });

  it("fails naming the source when a pinned source revision is gone", async () => {
    await hub.admin.deleteRepo("acme/ft1");
    const error = await verifyMerge({
      target: `acme/merged@${cleanSha}`,
      resolver: session().resolver,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_VERIFY", where: { model: "acme/ft1" } });
    expect((error as Error).message).toContain(
      `source acme/ft1 at revision ${merged.record.sources.find((s) => s.ref === "acme/ft1")!.revision} is no longer reachable`,
    );
  });
});
