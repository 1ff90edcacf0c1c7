import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../src/compat/check.js";
import { DEFAULT_THRESHOLDS } from "../../src/compat/thresholds.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import { closeModels } from "../../src/pipeline/index.js";
import { TINY_LLAMA } from "../../src/synth/tiny-llama.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { checkManifest, findingsOf, loadRun, taskManifest, writeFixtures } from "./helpers.js";

const tempDir = useTempDirs();

describe("the delta probe", () => {
  it("passes true fine-tunes of the base without a finding", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "ft2"]);
    const report = await checkManifest(dir, taskManifest(["ft1", "ft2"]));
    expect(report.findings).toEqual([]);
    expect(report.blocking).toBe(false);
    for (const probe of report.probe) {
      expect(probe.summary!.cosine).toBeGreaterThan(0.99);
      expect(probe.summary!.p99AbsDelta).toBeLessThan(DEFAULT_THRESHOLDS.continuedPretrainingDelta);
      expect(new Set(probe.tensors.map((t) => t.kind))).toEqual(new Set(["embedding", "attention", "mlp"]));
    }
  });

  it("blocks a same-shape model from another pre-training, which every header check passes", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "other"]);
    const report = await checkManifest(dir, taskManifest(["ft1", "other"]));
    expect(
      report.findings.filter((f) => f.code.startsWith("config.") || f.code.startsWith("layout.")),
    ).toEqual([]);
    const [finding] = findingsOf(report, "./other");
    expect(finding).toMatchObject({ severity: "blocking", code: "probe.unrelated", pos: { line: 6 } });
    expect(finding!.message).toMatch(/not derived from \.\/base/);
    const summary = report.probe.find((p) => p.model === "./other")!.summary!;
    expect(Math.abs(summary.cosine)).toBeLessThan(0.1);
    expect(summary.relativeDelta).toBeGreaterThan(1.3);
    expect(report.blocking).toBe(true);
  });

  it("warns about continued-pretraining-sized deltas, citing the DARE paper", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "cpt"]);
    const report = await checkManifest(dir, taskManifest(["cpt"]));
    const [finding] = findingsOf(report, "./cpt");
    expect(finding).toMatchObject({ severity: "warning", code: "probe.continued-pretraining" });
    expect(finding!.message).toContain("arXiv 2311.03099");
    expect(finding!.fix).toMatch(/dare_ties drops delta elements at random/);
    expect(report.blocking).toBe(false);
    const forTies = await checkManifest(dir, taskManifest(["cpt"], "ties"));
    expect(findingsOf(forTies, "./cpt")[0]!.fix).toMatch(/if you switch to dare_/);
  });

  it("takes its thresholds from the options", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "cpt"]);
    const strict = await checkManifest(dir, taskManifest(["cpt"]), { thresholds: { unrelatedCosine: 0.9 } });
    expect(findingsOf(strict, "./cpt")).toMatchObject([{ severity: "blocking", code: "probe.unrelated" }]);
    const lax = await checkManifest(dir, taskManifest(["cpt"]), {
      thresholds: { continuedPretrainingDelta: 0.5, distantCosine: 0.5 },
    });
    expect(lax.findings).toEqual([]);
  });

  it("compares embeddings of another vocabulary on their common rows", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "vocab"]);
    const report = await checkManifest(dir, taskManifest(["vocab"]));
    const probe = report.probe[0]!;
    const embed = probe.tensors.find((t) => t.tensor === "model.embed_tokens.weight")!;
    expect(embed.elements).toBe(64 * 32);
    expect(embed.cosine).toBeGreaterThan(0.99);
  });

  it("reads no more than its budget from each model, by range reads", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "other"], TINY_LLAMA);
    const run = await loadRun(await writeManifest(dir, taskManifest(["ft1", "other"])));
    try {
      for (const counter of run.counters.values()) counter.bytes = 0;
      const budget = 16 * 1024;
      const report = await runCheck({
        manifest: run.manifest,
        method: methodRegistry.get("dare_ties")!,
        models: run.models,
        probe: { maxBytesPerModel: budget },
      });
      const weights = (await stat(join(dir, "base", "model.safetensors"))).size;
      expect(weights).toBeGreaterThan(20 * budget);
      for (const [ref, counter] of run.counters) {
        expect(counter.bytes, ref).toBeGreaterThan(budget / 2);
        expect(counter.bytes, ref).toBeLessThanOrEqual(budget);
      }
      for (const probe of report.probe) {
        expect(probe.bytesRead).toBe(run.counters.get(probe.model)!.bytes);
        expect(probe.tensors.length).toBe(10);
      }
      expect(findingsOf(report, "./other")).toMatchObject([{ code: "probe.unrelated" }]);
      expect(findingsOf(report, "./ft1")).toEqual([]);
    } finally {
      await closeModels(run.models);
    }
  });

  it("reads no weights at all when the probe is off", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "other"]);
    const run = await loadRun(await writeManifest(dir, taskManifest(["other"])));
    try {
      for (const counter of run.counters.values()) counter.bytes = 0;
      const report = await runCheck({
        manifest: run.manifest,
        method: methodRegistry.get("dare_ties")!,
        models: run.models,
        probe: false,
      });
      expect(report.probe).toEqual([]);
      expect([...run.counters.values()].map((c) => c.bytes)).toEqual([0, 0]);
    } finally {
      await closeModels(run.models);
    }
  });
});
