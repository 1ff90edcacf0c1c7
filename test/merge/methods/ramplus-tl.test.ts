import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { ramVectors } from "../../../src/merge/methods/ram.js";
import { ramplusLambdas, ramplusTlMethod } from "../../../src/merge/methods/ramplus-tl.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import type { ResolvedParams } from "../../../src/merge/types.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";
import { ramExpected } from "./ram-expected.js";

const f = Math.fround;
const tempDir = useTempDirs();
const DEFAULTS = { r: 0.1, alpha: 0.2, epsilon: 1e-5 };

function merge(base: number[], models: number[][], global: ResolvedParams = DEFAULTS) {
  return ramplusTlMethod.merge(
    context({ base: input("base", base), inputs: models.map((m, i) => input(`m${i}`, m)), global }),
  );
}

function lambdas(base: number[], models: number[][], p = DEFAULTS): number[] {
  const vectors = ramVectors(
    input("b", base),
    models.map((m, i) => input(`m${i}`, m)),
    p.epsilon,
  );
  return ramplusLambdas(vectors, p.epsilon, p.r, p.alpha);
}

describe("ramplus_tl", () => {
  it("declares mergekit's name and defaults (r 0.1, alpha 0.2, epsilon 1e-5)", () => {
    expect(methodRegistry.get("ramplus_tl")).toBe(ramplusTlMethod);
    expect(ramplusTlMethod.globalParams.map((p) => [p.name, p.default])).toEqual([
      ["r", 0.1],
      ["alpha", 0.2],
      ["epsilon", 1e-5],
    ]);
  });

  it("scales unique changes by λ = 1 + r·clip(shared/unique, 0, alpha) (hand-checked)", () => {
    // Model 1: shared at e1, e4; unique at e0 → ρ = 2 → clipped to 0.2 → λ = 1.02. Model 2 likewise.
    const base = [0, 0, 0, 0, 1];
    const models = [
      [0.5, 0.2, 0, 1e-6, 1.25],
      [0, 0.4, 0.3, 0, 1.75],
    ];
    const lambda = f(1 + f(f(0.1) * f(0.2)));
    expect(lambdas(base, models)).toEqual([lambda, lambda]);
    const out = merge(base, models);
    expect(out[0]).toBe(f(0.5 * lambda));
    expect(out[0]).toBeCloseTo(0.51, 6);
    expect(out[2]).toBe(f(f(0.3) * lambda));
    expect(out[4]).toBe(1.5);
  });

  it("takes ρ below alpha as it is, and shared/ε when a model has no unique change", () => {
    // Model 1: 1 shared, 10 unique → ρ = 0.1 → λ = f32(1 + f32(0.1·0.1)).
    const base = new Array<number>(11).fill(0);
    const m1 = base.map(() => 1);
    const m2 = base.map((_, e) => (e === 0 ? 1 : 0));
    const [l1, l2] = lambdas(base, [m1, m2]);
    expect(l1).toBe(f(1 + f(f(0.1) * f(f(1) / f(10)))));
    expect(l2).toBe(f(1 + f(f(0.1) * f(0.2)))); // ρ = 1 / 1e-5, clipped
    expect(lambdas(base, [m1, m2], { r: 0, alpha: 0.2, epsilon: 1e-5 })).toEqual([1, 1]);
  });

  it("equals ram with r = 0, and an independent restatement otherwise", () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const base = Array.from({ length: 50 }, () => f(rand()));
    const models = [0, 1, 2].map((k) => base.map((b) => f(b + (rand() > k * 0.3 ? f(rand() * 0.01) : 0))));
    const p = { r: 0, alpha: 0.2, epsilon: 1e-3 };
    expect(bits(merge(base, models, p))).toEqual(f32Bits(ramExpected(base, models, 1e-3)));
    const q = { r: 0.5, alpha: 1, epsilon: 1e-3 };
    const l = lambdas(base, models, q);
    expect(l.every((x) => x > 1)).toBe(true);
    expect(bits(merge(base, models, q))).toEqual(f32Bits(ramExpected(base, models, 1e-3, l)));
  });

  it("refuses negative r and alpha at the manifest", () => {
    const text = (params: string) =>
      `merge_method: ramplus_tl\nbase_model: org/base\nmodels:\n  - model: org/a\n  - model: org/b\nparameters: ${params}\n`;
    const validate = (t: string) => validateManifest(parseManifest(t, "m.yaml"), methodRegistry);
    expect(() => validate(text("{r: 0.3, alpha: 0.5}"))).not.toThrow();
    expect(caught(() => validate(text("{r: -0.1}")))).toMatchObject({
      message: expect.stringMatching(/r must be in/),
    });
    expect(caught(() => validate(text("{alpha: -1}")))).toMatchObject({
      message: expect.stringMatching(/alpha must be in/),
    });
  });

  it("plans and merges a manifest end to end", async () => {
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest: `merge_method: ramplus_tl\nbase_model: ./base\nmodels:\n  - model: ./ft1\n  - model: ./ft2\n  - model: ./ft3\nparameters: {epsilon: 0.005, r: 0.5}\n`,
      method: ramplusTlMethod,
      fineTunes: 3,
      base: "separate",
      global: { epsilon: 0.005, r: 0.5, alpha: 0.2 },
    });
    expect(checked).toBeGreaterThan(10);
  });
});
