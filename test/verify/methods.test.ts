import { join, relative } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import type { MergeMethod, ParamSpec } from "../../src/merge/types.js";
import { runMerge, verifyMerge } from "../../src/pipeline/index.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
let family: { base: string; fineTunes: string[] };
let familyDir: string;

beforeAll(async () => {
  familyDir = await mkdtemp(join(tmpdir(), "hubmerge-verify-family-"));
  family = await writeFamily(familyDir, { fineTunes: 3 });
});

afterAll(async () => {
  await rm(familyDir, { recursive: true, force: true });
});

/** A value inside a required parameter's range. */
const valueFor = (spec: ParamSpec) => (spec.type === "boolean" ? false : 0.5);

/** The smallest valid manifest of `method` over the family: required parameters at 0.5. */
function manifestFor(method: MergeMethod, root: string): string {
  // Local models are named relative to the manifest (absolute paths are refused).
  const at = (path: string) => relative(root, path);
  const count = Math.max(method.minModels, Math.min(2, method.maxModels ?? 2));
  const perModel = method.perModelParams.filter((p) => p.required);
  const params = perModel.length
    ? ` , parameters: {${perModel.map((p) => `${p.name}: ${valueFor(p)}`).join(", ")}}`
    : "";
  const models = family.fineTunes.slice(0, count).map((path) => `  - {model: ${at(path)}${params}}`);
  const global = method.globalParams.filter((p) => p.required);
  return [
    `merge_method: ${method.name}`,
    ...(method.base === "none" ? [] : [`base_model: ${at(family.base)}`]),
    "models:",
    ...models,
    ...(global.length ? [`parameters: {${global.map((p) => `${p.name}: ${valueFor(p)}`).join(", ")}}`] : []),
    "dtype: bfloat16",
    "hubmerge: {seed: 7}",
    "",
  ].join("\n");
}

describe("hubmerge verify on fresh merges", () => {
  for (const method of methodRegistry.names().map((name) => methodRegistry.get(name)!)) {
    it(`matches a fresh ${method.name} merge in full and in sample mode`, async () => {
      const root = await tempDir();
      const out = join(root, "out");
      await runMerge({
        manifestPath: await writeManifest(root, manifestFor(method, root)),
        out,
        maxShardBytes: 40_000,
      });
      const full = await verifyMerge({ target: out, full: true });
      expect(full.verdicts.filter((v) => !v.ok)).toEqual([]);
      expect(full.ok).toBe(true);
      expect(full.tensors.checked).toBe(full.tensors.total);
      expect(
        full.verdicts.filter((v) => v.kind === "shard" && v.check === "re-created").length,
      ).toBeGreaterThan(1);
      const sample = await verifyMerge({ target: out, fraction: 0.1, seedDraw: 3 });
      expect(sample.verdicts.filter((v) => !v.ok)).toEqual([]);
      expect(sample.tensors.checked).toBeLessThan(sample.tensors.total);
      expect(sample.seedDraw).toBe(3);
      const recreated = sample.verdicts.filter((v) => v.kind === "tensor" && v.check === "re-created");
      expect(recreated.length).toBe(sample.tensors.checked);
      expect(recreated.some((v) => v.subject === "model.embed_tokens.weight")).toBe(true);
    });
  }
});
