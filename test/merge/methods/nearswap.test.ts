import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { nearswapMethod } from "../../../src/merge/methods/nearswap.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";

const f = Math.fround;
const tempDir = useTempDirs();

/** Independent restatement in f32 steps: weight = clamp(reciprocal(max(|a − b|, 1e-6))·t, 0, 1), as torch's `t / x`. */
function expected(a: readonly number[], b: readonly number[], t: number): number[] {
  return a.map((x, i) => {
    const y = b[i]!;
    const distance = Math.max(Math.abs(f(x - y)), f(1e-6));
    const w = Math.min(1, Math.max(0, f(f(1 / distance) * f(t))));
    return f(f(w * y) + f(f(1 - w) * x));
  });
}

function merge(a: number[], b: number[], t: number): Float32Array {
  return nearswapMethod.merge(
    context({ base: input("base", a), inputs: [input("other", b)], global: { t } }),
  );
}

describe("nearswap", () => {
  it("declares mergekit's name and a required t", () => {
    expect(methodRegistry.get("nearswap")).toBe(nearswapMethod);
    expect([nearswapMethod.base, nearswapMethod.minModels, nearswapMethod.maxModels]).toEqual([
      "required",
      1,
      1,
    ]);
    expect(nearswapMethod.globalParams.map((p) => [p.name, p.required, p.default])).toEqual([
      ["t", true, undefined],
    ]);
    expect(nearswapMethod.shapePolicy).toBe("strict");
  });

  it("takes close values whole and moves t/distance of the way towards far ones (hand-checked)", () => {
    // |a−b| = 0.5 → w = 0.1/0.5 = 0.2; |a−b| = 0.05 → w = 1 (clamped); equal → w = 1.
    const out = merge([1, 2, 3], [1.5, 2.05, 3], 0.1);
    const w = f(f(1 / f(0.5)) * f(0.1));
    expect(out[0]).toBe(f(f(w * 1.5) + f(f(1 - w) * 1)));
    expect(out[0]).toBeCloseTo(1.1, 6);
    expect(out[1]).toBe(f(2.05));
    expect(out[2]).toBe(3);
  });

  it("matches an independent f32 restatement on mixed values", () => {
    const a = [0.01, -0.2, 0.3, 1e-7, -4, 0.5, 0].map(f);
    const b = [0.0101, 0.2, 0.2999, -1e-7, -4.001, 0.5, 3e-7].map(f);
    for (const t of [0, 1e-4, 0.001, 0.05, 2])
      expect(bits(merge(a, b, t))).toEqual(f32Bits(expected(a, b, t)));
  });

  it("clamps distances below 1e-6 (mergekit's floor) and t = 0 keeps the base", () => {
    // distance 2e-7 is taken as 1e-6: t = 5e-7 gives weight 0.5, not 1.
    const a = [1];
    const b = [f(1 + 2.384185791015625e-7)];
    expect(bits(merge(a, b, 5e-7))).toEqual(f32Bits(expected(a, b, 5e-7)));
    expect(f(f(1 / f(1e-6)) * f(5e-7))).toBeLessThan(1);
    expect(bits(merge([0.25, -3], [0.5, 7], 0))).toEqual(f32Bits([0.25, -3]));
  });

  it("divides as torch's `t / tensor` does: a reciprocal, then a product", () => {
    // |a − b| = f32(0.0010001369…): f32(t / d) and f32(f32(1/d)·t) differ in the last bit.
    const d = f(0.0010001369519159198);
    const w = f(f(1 / d) * f(0.0001));
    expect(w).not.toBe(f(f(0.0001) / d));
    expect(merge([0], [d], 0.0001)[0]).toBe(f(f(w * d) + f(f(1 - w) * 0)));
  });

  it("lets NaN through as torch's clamp does", () => {
    const out = merge([1, NaN], [NaN, 2], 0.1);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(Number.isNaN(out[1])).toBe(true);
  });

  it("gives the canonical NaN wherever the weight is NaN, whatever the inputs' NaN signs and payloads", () => {
    // −NaN in either input, two different NaNs, and both +Inf (Inf − Inf): 0x7FC00000 each time.
    const neg = new Float32Array(new Uint32Array([0xffc00000, 0xff812345]).buffer);
    const pos = new Float32Array(new Uint32Array([0x7fc00001]).buffer);
    const out = merge([1, neg[0]!, neg[1]!, Infinity], [neg[0]!, 2, pos[0]!, Infinity], 0.1);
    expect(bits(out)).toEqual([0x7fc00000, 0x7fc00000, 0x7fc00000, 0x7fc00000]);
  });

  it("refuses a missing other model or mismatched shapes", () => {
    const ctx = context({ base: input("base", [1, 2]), inputs: [], global: { t: 0.1 } });
    expect(
      isHubmergeError(
        caught(() => nearswapMethod.merge(ctx)),
        "E_MERGE",
      ),
    ).toBe(true);
    const mismatch = context({
      base: input("base", [1, 2]),
      inputs: [input("o", [1, 2, 3])],
      global: { t: 0.1 },
      shape: [2],
    });
    expect(
      isHubmergeError(
        caught(() => nearswapMethod.merge(mismatch)),
        "E_MERGE",
      ),
    ).toBe(true);
  });

  it("validates t at the manifest: required, not negative, and may exceed 1", () => {
    const text = (params: string) =>
      `merge_method: nearswap\nbase_model: org/base\nmodels:\n  - model: org/a\n${params}`;
    const validate = (params: string) =>
      validateManifest(parseManifest(text(params), "m.yaml"), methodRegistry);
    expect(() => validate("parameters: {t: 2.5}\n")).not.toThrow();
    expect(caught(() => validate(""))).toMatchObject({
      code: "E_MANIFEST",
      message: expect.stringMatching(/needs the parameter `t`/),
    });
    expect(caught(() => validate("parameters: {t: -0.1}\n"))).toMatchObject({
      code: "E_MANIFEST",
      message: expect.stringMatching(/t must be in \[0, ∞\)/),
    });
    const third = `merge_method: nearswap\nbase_model: org/base\nmodels:\n  - model: org/a\n  - model: org/b\nparameters: {t: 0.1}\n`;
    expect(caught(() => validateManifest(parseManifest(third, "m.yaml"), methodRegistry))).toMatchObject({
      code: "E_MANIFEST",
      message: expect.stringMatching(/exactly 1 model besides the base/),
    });
  });

  it("plans and merges a manifest end to end", async () => {
    const manifest = `merge_method: nearswap\nbase_model: ./base\nmodels:\n  - model: ./ft1\nparameters: {t: 0.003}\n`;
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest,
      method: nearswapMethod,
      fineTunes: 1,
      base: "separate",
      global: { t: 0.003 },
    });
    expect(checked).toBeGreaterThan(10);
  });
});
