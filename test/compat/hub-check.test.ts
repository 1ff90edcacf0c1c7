import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { writeTinyLlama } from "../../src/synth/tiny-llama.js";
import { runCli } from "../support/cli.js";
import { seedHubModel } from "../support/hub-models.js";
import { TEST_LLAMA, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const SPEC = { ...TEST_LLAMA, hiddenSize: 128, intermediateSize: 352, vocabSize: 1024, layers: 4 };
let hub: LocalHub;
let root: string;

beforeEach(async () => {
  root = await tempDir();
  hub = await startLocalHub({ dir: join(root, "hub") });
  const variants = { base: undefined, ft: 11, other: undefined } as const;
  for (const [name, delta] of Object.entries(variants)) {
    const dir = join(root, name);
    const baseSeed = name === "other" ? 2 : 1; // "other": same shapes, another backbone
    await writeTinyLlama(dir, SPEC, { baseSeed, ...(delta ? { delta: { seed: delta, std: 0.004 } } : {}) });
    await seedHubModel(hub, `acme/${name}`, dir);
  }
});

afterEach(async () => {
  await hub.close();
});

/** Bytes the local Hub served from each repo's weights, from the Range of every request. */
function weightBytesServed(repo: string): { bytes: number; unranged: number } {
  let bytes = 0;
  let unranged = 0;
  for (const r of hub.requests.matching({ pathIncludes: `/${repo}/resolve/` })) {
    if (!r.path.endsWith(".safetensors")) continue;
    const match = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? "");
    if (!match) unranged++;
    else bytes += Number(match[2]) - Number(match[1]) + 1;
  }
  return { bytes, unranged };
}

const manifest = (ft: string) => `merge_method: dare_ties
base_model: acme/base
models:
  - model: ${ft}
    parameters: {weight: 1, density: 0.5}
`;

describe("hubmerge check on Hub sources", () => {
  it("passes a true fine-tune reading a bounded sample of each model, never a whole file", async () => {
    const result = await runCli([
      "check",
      await writeManifest(root, manifest("acme/ft")),
      "--hub-url",
      hub.url,
      "--probe-bytes",
      "64KiB",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const fileSize = 2 * (2 * 1024 * 128 + 4 * (4 * 128 * 128 + 3 * 352 * 128)); // bf16 weights, roughly
    for (const repo of ["acme/base", "acme/ft"]) {
      const served = weightBytesServed(repo);
      expect(served.unranged).toBe(0);
      // the sample budget, plus the safetensors header read when the model is opened
      expect(served.bytes).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
      expect(served.bytes).toBeLessThan(fileSize / 10);
    }
  });

  it("blocks a same-shape model from another backbone, still without downloading weights", async () => {
    const result = await runCli([
      "check",
      await writeManifest(root, manifest("acme/other")),
      "--hub-url",
      hub.url,
      "--json",
    ]);
    expect(result.code).toBe(5);
    const report = JSON.parse(result.stdout);
    expect(report.blocking).toBe(true);
    expect(report.findings.some((f: { code: string }) => f.code === "probe.unrelated")).toBe(true);
    expect(weightBytesServed("acme/other").unranged).toBe(0);
  });
});
