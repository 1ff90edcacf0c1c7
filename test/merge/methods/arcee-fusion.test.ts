import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import {
  arceeFusion,
  arceeFusionMethod,
  fusionThreshold,
  kthSmallest,
  rowDivergences,
} from "../../../src/merge/methods/arcee-fusion.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";

const f = Math.fround;
const tempDir = useTempDirs();

/** KL(softmax(x) + 1e-8 ‖ softmax(y) + 1e-8) in f64, written out independently. */
function kl(x: number[], y: number[]): number {
  const soft = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((a) => Math.exp(a - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((a) => a / s + 1e-8);
  };
  const p = soft(x);
  const q = soft(y);
  return p.reduce((acc, pi, i) => acc + pi * Math.log(pi / q[i]!), 0);
}

describe("arcee_fusion", () => {
  it("declares mergekit's name: base plus exactly one model, no parameters", () => {
    expect(methodRegistry.get("arcee_fusion")).toBe(arceeFusionMethod);
    expect([arceeFusionMethod.base, arceeFusionMethod.minModels, arceeFusionMethod.maxModels]).toEqual([
      "required",
      1,
      1,
    ]);
    expect([arceeFusionMethod.globalParams, arceeFusionMethod.perModelParams]).toEqual([[], []]);
    expect(arceeFusionMethod.shapePolicy).toBe("task-family");
  });

  it("computes the KL divergence of each row's softmax, rounded to f32 once", () => {
    const base = [0.1, -0.2, 0.3, 0.05, 1, 1, 1, 1];
    const other = [0.2, -0.1, 0.1, 0.4, 1, 1, 1, 1];
    const divergences = rowDivergences(Float32Array.from(other), Float32Array.from(base), [2, 4]);
    const rows = (v: number[]) => [v.slice(0, 4).map(f), v.slice(4).map(f)];
    const [b0, b1] = rows(base);
    const [o0, o1] = rows(other);
    expect(Array.from(divergences)).toEqual([f(kl(o0!, b0!)), f(kl(o1!, b1!))]);
    expect(divergences[1]).toBe(0);
  });

  it("takes the other model only above median + 1.5·IQR of the importance (hand-checked)", () => {
    // One row: importance ∝ |δ| = 0.01 … 0.07 and 1; quartiles 0.02, 0.04, 0.06 → threshold 0.1·κ.
    const base = [0, 0, 0, 0, 0, 0, 0, 0].map(f);
    const other = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 1].map(f);
    const out = arceeFusion(Float32Array.from(base), Float32Array.from(other), [8]);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    const mixed = arceeFusion(Float32Array.from([1, -2, 0.5, 3]), Float32Array.from([1.5, -2, 0.5, 3]), [4]);
    // Quartile indices ⌊q·3⌋ = 0, 1, 2 of [0, 0, 0, x]: threshold 0, so every element (δ or 0) is taken.
    expect(bits(mixed)).toEqual(f32Bits([1.5, -2, 0.5, 3]));
  });

  it("keeps the base's exact bits where the mask is off", () => {
    // |δ| = 0.001, 0.01 … 0.07, 4.2: quartiles 0.02, 0.04, 0.06 (× κ) → only the last is taken.
    const base = Float32Array.from([-0, 0.3, 0.2, 0.1, 0.4, 0.5, 0.6, 0.7, 0.8]);
    const deltas = [0.001, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 4.2];
    const other = base.map((b, e) => b + deltas[e]!);
    const out = arceeFusion(base, other, [9]);
    expect(bits(out).slice(0, 8)).toEqual(bits(base).slice(0, 8));
    expect(out[8]).toBe(f(base[8]! + f(other[8]! - base[8]!)));
  });

  it("selects order statistics exactly: negatives, −0, ties and NaN (largest)", () => {
    const values = [3, -1, 0, -0, 2, 2, -7.5, NaN, 1e-30, -1e-30, Infinity, -Infinity].map(f);
    const sorted = [...values].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
    const data = Float32Array.from(values);
    sorted.forEach((x, k) => {
      const got = kthSmallest(data, k);
      if (Number.isNaN(x)) expect(got).toBeNaN();
      else expect(got === x).toBe(true);
    });
    expect(() => kthSmallest(data, values.length)).toThrow(RangeError);
  });

  it("takes quartiles at ⌊q·(n − 1)⌋ as mergekit's approximate_quantiles", () => {
    const values = Float32Array.from([9, 1, 8, 2, 7, 3, 6, 4, 5, 0]);
    // Sorted 0 … 9, n − 1 = 9: indices 2, 4, 6 → Q¼ = 2, median 4, Q¾ = 6 → 4 + 1.5·4 = 10.
    expect(fusionThreshold(values)).toBe(10);
  });

  it("crops a larger embedding to the base and skips a smaller one, with warnings", () => {
    const run = (otherShape: number[], other: number[]) => {
      const ctx = context({
        base: input("base", [0, 0, 0, 0], {}, [2, 2]),
        inputs: [input("ft", other, {}, otherShape)],
        shape: [2, 2],
        tensorName: "model.embed_tokens.weight",
      });
      return { out: arceeFusionMethod.merge(ctx), warnings: ctx.warnings };
    };
    const larger = run([3, 2], [0.5, 0, 0, 0, 9, 9]);
    expect(Array.from(larger.out)).toEqual(
      Array.from(arceeFusion(Float32Array.from([0, 0, 0, 0]), Float32Array.from([0.5, 0, 0, 0]), [2, 2])),
    );
    expect(larger.warnings.join()).toMatch(/using its leading rows/);
    const smaller = run([1, 2], [5, 5]);
    expect(Array.from(smaller.out)).toEqual([0, 0, 0, 0]);
    expect(smaller.warnings.join()).toMatch(/skipping this model/);
  });

  it("is refused at the manifest without a base or with a second model", () => {
    const validate = (t: string) => validateManifest(parseManifest(t, "m.yaml"), methodRegistry);
    expect(() =>
      validate("merge_method: arcee_fusion\nbase_model: org/base\nmodels:\n  - model: org/a\n"),
    ).not.toThrow();
    expect(caught(() => validate("merge_method: arcee_fusion\nmodels:\n  - model: org/a\n"))).toMatchObject({
      message: expect.stringMatching(/arcee_fusion needs a `base_model`/),
    });
    expect(
      caught(() =>
        validate(
          "merge_method: arcee_fusion\nbase_model: org/base\nmodels:\n  - model: org/a\n  - model: org/b\n",
        ),
      ),
    ).toMatchObject({ message: expect.stringMatching(/exactly 1 model besides the base/) });
  });

  it("plans and merges a manifest end to end", async () => {
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest: `merge_method: arcee_fusion\nbase_model: ./base\nmodels:\n  - model: ./base\n  - model: ./ft1\ndtype: float32\n`,
      method: arceeFusionMethod,
      fineTunes: 1,
      base: "separate",
      global: {},
    });
    expect(checked).toBeGreaterThan(10);
  });
});
