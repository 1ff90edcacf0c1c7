import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { ramMethod } from "../../../src/merge/methods/ram.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import type { ResolvedParams } from "../../../src/merge/types.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";
import { ramExpected } from "./ram-expected.js";

const f = Math.fround;
const tempDir = useTempDirs();

function merge(base: number[], models: number[][], global: ResolvedParams = { epsilon: 1e-5 }) {
  return ramMethod.merge(
    context({ base: input("base", base), inputs: models.map((m, i) => input(`m${i}`, m)), global }),
  );
}

const BASE = [0, 0, 0, 0, 1];
const M1 = [0.5, 0.2, 0, 1e-6, 1.25];
const M2 = [0, 0.4, 0.3, 0, 1.75];

describe("ram", () => {
  it("declares mergekit's name, base and epsilon default", () => {
    expect(methodRegistry.get("ram")).toBe(ramMethod);
    expect([ramMethod.base, ramMethod.minModels, ramMethod.maxModels]).toEqual(["required", 1, undefined]);
    expect(ramMethod.globalParams.map((p) => [p.name, p.default])).toEqual([["epsilon", 1e-5]]);
    expect(ramMethod.perModelParams).toEqual([]);
  });

  it("keeps unique changes whole, averages shared ones, ignores changes within epsilon (hand-checked)", () => {
    const out = merge(BASE, [M1, M2]);
    expect(Array.from(out)).toEqual([0.5, f(f(f(0.2) / 2) + f(f(0.4) / 2)), f(0.3), 0, 1.5]);
    expect(out[1]).toBeCloseTo(0.3, 7);
  });

  it("counts |δ| > epsilon strictly, and epsilon 0 counts every non-zero change", () => {
    const eps = f(1e-3);
    expect(
      Array.from(
        merge(
          [0, 0],
          [
            [eps, 2 * eps],
            [0, 0],
          ],
          { epsilon: 1e-3 },
        ),
      ),
    ).toEqual([0, f(2 * eps)]);
    expect(Array.from(merge([0], [[1e-30], [3e-30]], { epsilon: 0 }))).toEqual([
      f(f(f(1e-30) / 2) + f(f(3e-30) / 2)),
    ]);
  });

  it("matches an independent restatement on random task vectors with three models", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const base = Array.from({ length: 64 }, () => f(rand()));
    // Sparse deltas: about half the entries of each model unchanged.
    const models = [0, 1, 2].map(() => base.map((b) => f(b + (rand() > 0 ? f(rand() * 0.01) : 0))));
    expect(bits(merge(base, models, { epsilon: 1e-3 }))).toEqual(f32Bits(ramExpected(base, models, 1e-3)));
  });

  it("leaves the base where nobody changed anything, and takes one model whole", () => {
    expect(
      bits(
        merge(
          [1, -2],
          [
            [1, -2],
            [1, -2],
          ],
        ),
      ),
    ).toEqual(f32Bits([1, -2]));
    expect(bits(merge([1, -2], [[1.5, -2.5]]))).toEqual(f32Bits([1.5, -2.5]));
  });

  it("treats a NaN change as inactive: +0, not NaN (documented difference)", () => {
    expect(
      Array.from(
        merge(
          [1, 1],
          [
            [NaN, 2],
            [1, 3],
          ],
        ),
      ),
    ).toEqual([1, 2.5]);
  });

  it("refuses no models and mismatched shapes", () => {
    const none = context({ base: input("b", [1]), inputs: [], global: { epsilon: 1e-5 } });
    expect(
      isHubmergeError(
        caught(() => ramMethod.merge(none)),
        "E_MERGE",
      ),
    ).toBe(true);
    const odd = context({
      base: input("b", [1, 2]),
      inputs: [input("m", [1])],
      global: { epsilon: 1e-5 },
      shape: [2],
    });
    expect(
      isHubmergeError(
        caught(() => ramMethod.merge(odd)),
        "E_MERGE",
      ),
    ).toBe(true);
  });

  it("validates epsilon at the manifest and needs a base model", () => {
    const text = (extra: string) =>
      `merge_method: ram\nbase_model: org/base\nmodels:\n  - model: org/a\n  - model: org/b\n${extra}`;
    const validate = (t: string) => validateManifest(parseManifest(t, "m.yaml"), methodRegistry);
    expect(() => validate(text("parameters: {epsilon: 0.001}\n"))).not.toThrow();
    expect(caught(() => validate(text("parameters: {epsilon: -1}\n")))).toMatchObject({
      code: "E_MANIFEST",
      message: expect.stringMatching(/epsilon must be in \[0, ∞\)/),
    });
    expect(caught(() => validate("merge_method: ram\nmodels:\n  - model: org/a\n"))).toMatchObject({
      message: expect.stringMatching(/ram needs a `base_model`/),
    });
  });

  it("plans and merges a manifest end to end", async () => {
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest: `merge_method: ram\nbase_model: ./base\nmodels:\n  - model: ./ft1\n  - model: ./ft2\nparameters: {epsilon: 0.004}\n`,
      method: ramMethod,
      fineTunes: 2,
      base: "separate",
      global: { epsilon: 0.004 },
    });
    expect(checked).toBeGreaterThan(10);
  });
});
