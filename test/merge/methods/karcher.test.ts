import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { karcherMethod } from "../../../src/merge/methods/karcher.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";

const tempDir = useTempDirs();

function merge(models: number[][], maxIter = 10, tol = 1e-5) {
  return karcherMethod.merge(
    context({ inputs: models.map((m, i) => input(`m${i}`, m)), global: { max_iter: maxIter, tol } }),
  );
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));

/** mergekit's iteration on whole vectors, in f64 (an independent statement of the algorithm). */
function karcherVectors(models: number[][], maxIter = 10, tol = 1e-5): number[] {
  const norms = models.map(norm);
  const valid = models.flatMap((_, i) => (norms[i]! > tol ? [i] : []));
  const units = models.map((m, i) => m.map((x) => x / norms[i]!));
  const a = 1 / valid.length;
  let u = models[0]!.map((_, e) => valid.reduce((s, i) => s + a * units[i]![e]!, 0));
  u = u.map((x) => x / norm(u));
  for (let k = 0; k < maxIter; k++) {
    const t = u.map(() => 0);
    for (const i of valid) {
      const d = Math.min(1, Math.max(-1, dot(u, units[i]!)));
      const theta = Math.acos(d);
      if (theta < tol) continue;
      units[i]!.forEach((x, e) => (t[e]! += ((a * theta) / Math.sin(theta)) * (x - d * u[e]!)));
    }
    const nt = norm(t);
    if (nt < tol) break;
    u = u.map((x, e) => Math.cos(nt) * x + (Math.sin(nt) * t[e]!) / nt);
    u = u.map((x) => x / norm(u));
  }
  const s = norms.reduce((acc, n) => acc + n / models.length, 0);
  return u.map((x) => s * x);
}

function expectClose(actual: Float32Array, expected: readonly number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((x, e) => expect(actual[e]).toBeCloseTo(x, digits));
}

describe("karcher", () => {
  it("declares mergekit's name, parameters and defaults (no base: every model counts equally)", () => {
    expect(methodRegistry.get("karcher")).toBe(karcherMethod);
    expect([karcherMethod.base, karcherMethod.minModels]).toEqual(["none", 1]);
    expect(karcherMethod.globalParams.map((p) => [p.name, p.default])).toEqual([
      ["max_iter", 10],
      ["tol", 1e-5],
    ]);
    expect(karcherMethod.perModelParams).toEqual([]);
  });

  it("finds the mean direction on the circle and the mean norm (hand-checked)", () => {
    // Directions 0°, 0°, 90°: the Karcher mean is 30° (one exact step on a circle); norms 1, 1, 1.
    expectClose(
      merge([
        [1, 0],
        [1, 0],
        [0, 1],
      ]),
      [Math.sqrt(3) / 2, 0.5],
    );
    // Orthogonal, norms 1 and 3: the bisector, at the mean norm 2.
    expectClose(
      merge([
        [1, 0],
        [0, 3],
      ]),
      [Math.SQRT2, Math.SQRT2],
    );
  });

  it("gives exact bytes for two orthogonal vectors of norm 2: f32(√2) in both places", () => {
    // The first guess is already the bisector (T cancels), c = 2·(1/√2) for each input.
    expect(
      bits(
        merge([
          [2, 0],
          [0, 2],
        ]),
      ),
    ).toEqual(f32Bits([Math.SQRT2, Math.SQRT2]));
    expect(
      bits(
        merge([
          [0, -2],
          [-2, 0],
        ]),
      ),
    ).toEqual(f32Bits([-Math.SQRT2, -Math.SQRT2]));
  });

  it("stops at the initial guess with max_iter: 0, and agrees with the vector-form iteration", () => {
    expectClose(
      merge(
        [
          [1, 0],
          [1, 0],
          [0, 1],
        ],
        0,
      ),
      [2 / Math.sqrt(5), 1 / Math.sqrt(5)],
    );
    let seed = 9;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const base = Array.from({ length: 30 }, () => rand());
    const models = [0, 1, 2].map(() => base.map((b) => Math.fround(b + rand() * 0.3)));
    for (const iterations of [0, 1, 3, 10])
      expectClose(merge(models, iterations), karcherVectors(models, iterations), 6);
  });

  it("returns two identical models exactly (coefficients ½), three to an ulp, and a single model as it is", () => {
    const a = [0.25, -1.5, 3e-3, 7];
    expect(bits(merge([a, a]))).toEqual(f32Bits(a));
    // Three copies: out = Σ f32(⅓)·a in f32, so at most a rounding step away.
    merge([a, a, a]).forEach((x, e) =>
      expect(Math.abs(x - a[e]!)).toBeLessThanOrEqual(Math.abs(a[e]!) * 2 ** -22),
    );
    expect(bits(merge([a]))).toEqual(f32Bits(a));
  });

  it("leaves out vectors with norm ≤ tol from the direction but counts them in the norm (mergekit)", () => {
    expect(
      Array.from(
        merge([
          [0, 0],
          [3, 4],
        ]),
      ),
    ).toEqual([1.5, 2]);
    expect(
      Array.from(
        merge([
          [0, 0],
          [0, 0],
        ]),
      ),
    ).toEqual([0, 0]);
    expectClose(
      merge(
        [
          [0.5, 0],
          [0, 2],
        ],
        10,
        1,
      ),
      [0, 1.25],
    );
  });

  it("refuses a fractional max_iter, a separate base, and mismatched shapes", () => {
    expect((caught(() => merge([[1], [2]], 2.5)) as Error).message).toMatch(
      /max_iter must be a whole number/,
    );
    const withBase = context({
      base: input("b", [1]),
      inputs: [input("m", [1])],
      global: { max_iter: 10, tol: 1e-5 },
    });
    expect(
      isHubmergeError(
        caught(() => karcherMethod.merge(withBase)),
        "E_INTERNAL",
      ),
    ).toBe(true);
    const odd = context({
      inputs: [input("a", [1, 2]), input("b", [1])],
      global: { max_iter: 10, tol: 1e-5 },
      shape: [2],
    });
    expect(
      isHubmergeError(
        caught(() => karcherMethod.merge(odd)),
        "E_MERGE",
      ),
    ).toBe(true);
  });

  it("validates max_iter and tol at the manifest", () => {
    const validate = (p: string) =>
      validateManifest(
        parseManifest(`merge_method: karcher\nmodels:\n  - model: org/a\n  - model: org/b\n${p}`, "m.yaml"),
        methodRegistry,
      );
    expect(() => validate("parameters: {max_iter: 100, tol: 1e-9}\n")).not.toThrow();
    expect(caught(() => validate("parameters: {tol: -1}\n"))).toMatchObject({
      message: expect.stringMatching(/tol must be in/),
    });
    expect(caught(() => validate("parameters: {max_iter: -3}\n"))).toMatchObject({
      message: expect.stringMatching(/max_iter must be in/),
    });
  });

  it("plans and merges a manifest end to end (the base listed among the models)", async () => {
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest: `merge_method: karcher\nmodels:\n  - model: ./base\n  - model: ./ft1\n  - model: ./ft2\nparameters: {max_iter: 20, tol: 1e-7}\n`,
      method: karcherMethod,
      fineTunes: 2,
      base: "input",
      global: { max_iter: 20, tol: 1e-7 },
    });
    expect(checked).toBeGreaterThan(10);
  });
});
