/**
 * End-to-end check for one method: write a small f32 family (base, ft1, ft2, …), run a manifest
 * through the whole pipeline (validate, plan, execute), and compare every output tensor with the
 * method's reference applied directly to the same synthetic values.
 */
import { join } from "node:path";
import { expect } from "vitest";
import { runMerge } from "../../../src/pipeline/index.js";
import { SafetensorsModel } from "../../../src/safetensors/reader.js";
import { LocalSource } from "../../../src/source/local-source.js";
import { tinyLlamaValues, type VariantSpec } from "../../../src/synth/tiny-llama.js";
import type { MergeInput, MergeMethod, ResolvedParams } from "../../../src/merge/types.js";
import { TEST_LLAMA, writeFamily, writeManifest } from "../../support/models.js";
import { context } from "./basic-method-context.js";

export const BASE_VARIANT: VariantSpec = { baseSeed: 1 };
export const fineTuneVariant = (i: number): VariantSpec => ({
  baseSeed: 1,
  delta: { seed: 100 + i, std: 0.004 },
});

export interface FamilyCase {
  dir: string;
  manifest: string;
  method: MergeMethod;
  fineTunes: number;
  /** The base's tensor goes to `base` (methods with a base) or first among the inputs (karcher). */
  base: "separate" | "input" | "none";
  /** Per-model parameters by fine-tune number (1-based). */
  perModel?: (i: number) => ResolvedParams;
  global: ResolvedParams;
}

/** Merges the family with `manifest` and expects every tensor to equal the reference's bytes. */
export async function expectFamilyMerge(c: FamilyCase): Promise<number> {
  const spec = { ...TEST_LLAMA, dtype: "F32" as const };
  await writeFamily(c.dir, { spec, fineTunes: c.fineTunes });
  const result = await runMerge({
    manifestPath: await writeManifest(c.dir, c.manifest),
    out: join(c.dir, "out"),
  });
  expect(result.plan.method.name).toBe(c.method.name);
  const merged = await SafetensorsModel.open(new LocalSource(join(c.dir, "out"), join(c.dir, "out")));
  let checked = 0;
  try {
    for (const name of merged.tensorNames()) {
      const shape = [...merged.info(name).shape];
      const input = (model: string, variant: VariantSpec, params: ResolvedParams): MergeInput => ({
        model,
        data: tinyLlamaValues(name, shape, variant),
        shape,
        params,
      });
      const base = input("./base", BASE_VARIANT, {});
      const others = Array.from({ length: c.fineTunes }, (_, k) =>
        input(`./ft${k + 1}`, fineTuneVariant(k + 1), c.perModel?.(k + 1) ?? {}),
      );
      const ctx = context({
        base: c.base === "separate" ? base : undefined,
        inputs: c.base === "input" ? [base, ...others] : others,
        global: c.global,
        shape,
        tensorName: name,
      });
      const expected = c.method.merge(ctx);
      const actual = await merged.readTensorF32(name);
      expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), name).toEqual(
        Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
      );
      checked++;
    }
  } finally {
    await merged.close();
  }
  return checked;
}
