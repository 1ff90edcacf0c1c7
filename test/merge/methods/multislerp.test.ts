import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { multislerpMethod } from "../../../src/merge/methods/multislerp.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import type { ResolvedParams } from "../../../src/merge/types.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";

const f = Math.fround;
const tempDir = useTempDirs();
const DEFAULTS = { normalize_weights: true, eps: 1e-8 };

function merge(
  models: number[][],
  weights: number[],
  options: { base?: number[]; global?: ResolvedParams } = {},
) {
  return multislerpMethod.merge(
    context({
      base: options.base && input("base", options.base),
      inputs: models.map((m, i) => input(`m${i}`, m, { weight: weights[i]! })),
      global: { ...DEFAULTS, ...options.global },
    }),
  );
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** mergekit's steps in f64 with plain arrays, tangent projection and exponential map included. */
function mergekitSteps(vectors: number[][], weights: number[], eps = 1e-8): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const w = weights.map((x) => x / total);
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)));
  const units = vectors.map((v, i) => v.map((x) => x / (norms[i]! + eps)));
  let mean = units[0]!.map((_, e) => units.reduce((s, u, i) => s + u[e]! * w[i]!, 0));
  const meanNorm = Math.sqrt(dot(mean, mean));
  mean = mean.map((x) => x / meanNorm);
  const tangents = units.map((u) => {
    const d = dot(u, mean);
    return u.map((x, e) => x - d * mean[e]!);
  });
  const tangent = mean.map((_, e) => tangents.reduce((s, t, i) => s + t[e]! * w[i]!, 0));
  const tn = Math.sqrt(dot(tangent, tangent)) + eps;
  const scale = norms.reduce((s, n, i) => s + n * w[i]!, 0);
  return mean.map((m, e) => (m * Math.cos(tn) + (tangent[e]! * Math.sin(tn)) / tn) * scale);
}

/** hubmerge's closed form with plain arrays: out = Σ f32(cᵢ)·vᵢ in f32. */
function closedForm(vectors: number[][], weights: number[], eps = 1e-8): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const w = weights.map((x) => x / total);
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)));
  const mu = w.map((x, i) => x / (norms[i]! + eps));
  let squared = 0;
  mu.forEach((a, i) => mu.forEach((b, j) => (squared += a * b * dot(vectors[i]!, vectors[j]!))));
  const scale = norms.reduce((s, n, i) => s + n * w[i]!, 0);
  const c = mu.map((m) => (scale * m) / Math.sqrt(squared));
  return vectors[0]!.map((_, e) => vectors.reduce((s, v, i) => f(s + f(f(c[i]!) * v[e]!)), 0));
}

describe("multislerp", () => {
  it("declares mergekit's name, parameters and defaults", () => {
    expect(methodRegistry.get("multislerp")).toBe(multislerpMethod);
    expect([multislerpMethod.base, multislerpMethod.minModels]).toEqual(["optional", 1]);
    expect(multislerpMethod.globalParams.map((p) => [p.name, p.default])).toEqual([
      ["normalize_weights", true],
      ["eps", 1e-8],
    ]);
    expect(multislerpMethod.perModelParams.map((p) => [p.name, p.required])).toEqual([["weight", true]]);
  });

  it("gives the normalised weighted mean direction at the weighted mean norm (hand-checked)", () => {
    // Orthogonal [2, 0] and [0, 4], equal weights: direction (1, 1)/√2, norm (2 + 4)/2 = 3.
    const out = merge(
      [
        [2, 0],
        [0, 4],
      ],
      [1, 1],
    );
    expect(out[0]).toBeCloseTo(3 / Math.SQRT2, 6);
    expect(out[1]).toBeCloseTo(3 / Math.SQRT2, 6);
    // Parallel [3, 4] and [6, 8]: direction (0.6, 0.8), mean norm 7.5.
    const parallel = merge(
      [
        [3, 4],
        [6, 8],
      ],
      [1, 1],
    );
    expect(parallel[0]).toBeCloseTo(4.5, 6);
    expect(parallel[1]).toBeCloseTo(6, 6);
  });

  it("equals the closed form bit for bit, and mergekit's tangent-space steps to rounding", () => {
    let seed = 5;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const models = [0, 1, 2, 3].map(() => Array.from({ length: 40 }, () => f(rand())));
    const weights = [0.4, 0.3, 0.2, 0.1];
    const out = merge(models, weights);
    expect(bits(out)).toEqual(f32Bits(closedForm(models, weights)));
    mergekitSteps(models, weights).forEach((x, e) => expect(Math.abs(out[e]! - x)).toBeLessThan(1e-6));
  });

  it("interpolates task vectors and adds the base back", () => {
    const base = [1, 2, 3].map(f);
    const models = [
      [1.5, 2, 2.5],
      [1, 2.5, 3.25],
      [0.5, 2.25, 3],
    ].map((m) => m.map(f));
    const deltas = models.map((m) => m.map((x, e) => f(x - base[e]!)));
    const expected = closedForm(deltas, [1, 2, 3]).map((x, e) => f(base[e]! + x));
    expect(bits(merge(models, [1, 2, 3], { base }))).toEqual(f32Bits(expected));
  });

  it("uses raw weights with normalize_weights: false", () => {
    const out = merge(
      [
        [1, 0],
        [0, 1],
      ],
      [1, 1],
      { global: { normalize_weights: false, eps: 1e-8 } },
    );
    expect(out[0]).toBeCloseTo(Math.SQRT2, 6);
  });

  it("returns a single model as it is, base or not (mergekit)", () => {
    expect(bits(merge([[0.5, -1]], [0.3], { base: [9, 9] }))).toEqual(f32Bits([0.5, -1]));
  });

  it("lerps two opposite vectors whose weights cancel, and keeps the base when every task vector is zero", () => {
    expect(
      Array.from(
        merge(
          [
            [1, -2],
            [-1, 2],
          ],
          [1, 1],
        ),
      ),
    ).toEqual([0, 0]);
    // Task vectors [1, −2] and [−1, 2] from the base.
    expect(
      Array.from(
        merge(
          [
            [1.5, -1.75],
            [-0.5, 2.25],
          ],
          [1, 1],
          { base: [0.5, 0.25] },
        ),
      ),
    ).toEqual([0.5, 0.25]);
    const base = [0.5, -3];
    expect(bits(merge([base, base, base], [1, 1, 1], { base }))).toEqual(f32Bits(base));
  });

  it("refuses three or more directions that cancel, and weights that sum to zero", () => {
    const cancel = caught(() =>
      merge(
        [
          [1, 0],
          [-1, 0],
          [2, 0],
          [-2, 0],
        ],
        [1, 1, 1, 1],
      ),
    );
    expect(isHubmergeError(cancel, "E_MERGE")).toBe(true);
    expect((cancel as Error).message).toMatch(/weighted mean of the models' directions is zero/);
    const zero = caught(() =>
      merge(
        [
          [1, 0],
          [0, 1],
        ],
        [1, -1],
      ),
    );
    expect((zero as Error).message).toMatch(/weights sum to 0/);
  });

  it("validates weight and eps at the manifest, with or without a base", () => {
    const validate = (t: string) => validateManifest(parseManifest(t, "m.yaml"), methodRegistry);
    const models =
      "models:\n  - model: org/a\n    parameters: {weight: 1}\n  - model: org/b\n    parameters: {weight: 2}\n";
    expect(() => validate(`merge_method: multislerp\n${models}`)).not.toThrow();
    expect(() => validate(`merge_method: multislerp\nbase_model: org/base\n${models}`)).not.toThrow();
    expect(caught(() => validate(`merge_method: multislerp\n${models}parameters: {eps: 0}\n`))).toMatchObject(
      {
        message: expect.stringMatching(/eps must be in \(0, ∞\)/),
      },
    );
    expect(caught(() => validate("merge_method: multislerp\nmodels:\n  - model: org/a\n"))).toMatchObject({
      message: expect.stringMatching(/has no `weight`/),
    });
  });

  it("plans and merges manifests end to end, with a base and without one", async () => {
    const models =
      "models:\n  - model: ./ft1\n    parameters: {weight: 0.5}\n  - model: ./ft2\n    parameters: {weight: 0.3}\n  - model: ./ft3\n    parameters: {weight: 0.2}\n";
    const perModel = (i: number) => ({ weight: [0.5, 0.3, 0.2][i - 1]! });
    const common = { method: multislerpMethod, fineTunes: 3, perModel, global: DEFAULTS };
    const withBase = await expectFamilyMerge({
      ...common,
      dir: await tempDir(),
      manifest: `merge_method: multislerp\nbase_model: ./base\n${models}`,
      base: "separate",
    });
    const without = await expectFamilyMerge({
      ...common,
      dir: await tempDir(),
      manifest: `merge_method: multislerp\n${models}`,
      base: "none",
    });
    expect(Math.min(withBase, without)).toBeGreaterThan(10);
  });
});
