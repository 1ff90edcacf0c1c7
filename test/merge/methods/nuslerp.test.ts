import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { nuslerpFactor, nuslerpMethod } from "../../../src/merge/methods/nuslerp.js";
import type { ResolvedParams } from "../../../src/merge/types.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";

const f = Math.fround;

/** Independent restatement of the per-vector rule, for plain arrays (few elements: no blocking). */
function pairWeights(x: readonly number[], y: readonly number[], t: number): [number, number] {
  const dot = (p: readonly number[], q: readonly number[]) => p.reduce((s, v, i) => s + v * q[i]!, 0);
  const nx = Math.max(Math.sqrt(dot(x, x)), 1e-7);
  const ny = Math.max(Math.sqrt(dot(y, y)), 1e-7);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot(x, y) / (nx * ny))));
  if (Math.abs(Math.sin(omega)) < 1e-8) return [f(1 - t), f(t)];
  return [f(Math.sin((1 - t) * omega) / Math.sin(omega)), f(Math.sin(t * omega) / Math.sin(omega))];
}

function mix(x: readonly number[], y: readonly number[], t: number): number[] {
  const [a, b] = pairWeights(x, y, t);
  return x.map((value, i) => f(f(a * value) + f(b * y[i]!)));
}

const theta1 = [1, 2, -0.5, 0.25].map(f);
const theta2 = [0.3, -1, 2, 1.5].map(f);
const theta0 = [0.9, 1.5, 0.5, 0.5].map(f);

function merge(options: { base?: number[]; w: [number, number]; global?: ResolvedParams; shape?: number[] }) {
  const shape = options.shape ?? [4];
  const ctx = context({
    base: options.base && input("base", options.base, {}, shape),
    inputs: [
      input("m1", theta1, { weight: options.w[0] }, shape),
      input("m2", theta2, { weight: options.w[1] }, shape),
    ],
    global: { nuslerp_flatten: true, nuslerp_row_wise: false, ...options.global },
    shape,
  });
  return nuslerpMethod.merge(ctx);
}

describe("nuslerp", () => {
  it("declares mergekit's name, parameters and defaults", () => {
    expect(nuslerpMethod.name).toBe("nuslerp");
    expect(nuslerpMethod.base).toBe("optional");
    expect([nuslerpMethod.minModels, nuslerpMethod.maxModels]).toEqual([2, 2]);
    expect(nuslerpMethod.globalParams.map((p) => [p.name, p.default])).toEqual([
      ["nuslerp_flatten", true],
      ["nuslerp_row_wise", false],
    ]);
  });

  it("takes t = w₂ / (w₁ + w₂), and 0.5 when the sum is below 1e-6 in magnitude", () => {
    expect(nuslerpFactor(1, 3)).toBe(0.75);
    expect(nuslerpFactor(0.2, 0.1)).toBe(0.1 / (0.2 + 0.1));
    expect(nuslerpFactor(1, -1)).toBe(0.5);
    expect(nuslerpFactor(4e-7, 5e-7)).toBe(0.5);
    expect(nuslerpFactor(-3, 1)).toBe(-0.5);
  });

  it("interpolates the two models without a base", () => {
    const t = 3 / 4;
    expect(bits(merge({ w: [1, 3] }))).toEqual(f32Bits(mix(theta1, theta2, t)));
  });

  it("interpolates task vectors and adds them to the base", () => {
    const d1 = theta1.map((v, i) => f(v - theta0[i]!));
    const d2 = theta2.map((v, i) => f(v - theta0[i]!));
    const expected = mix(d1, d2, 0.4).map((v, i) => f(theta0[i]! + v));
    expect(bits(merge({ base: theta0, w: [0.6, 0.4] }))).toEqual(f32Bits(expected));
  });

  it("gives the first model at w₂ = 0 and the second at w₁ = 0 exactly", () => {
    expect(bits(merge({ w: [1, 0] }))).toEqual(f32Bits(theta1));
    expect(bits(merge({ w: [0, 2] }))).toEqual(f32Bits(theta2));
  });

  it("lerps exactly parallel or anti-parallel vectors (|sin Ω| < 1e-8)", () => {
    const lerp = (x: number[], y: number[], t: number) =>
      x.map((v, i) => f(f(f(1 - t) * v) + f(f(t) * y[i]!)));
    for (const [other, w] of [
      [
        [6, 8],
        [1, 3],
      ],
      [
        [-3, -4],
        [3, 1],
      ],
    ] as const) {
      const ctx = context({
        inputs: [input("m1", [3, 4], { weight: w[0] }), input("m2", other, { weight: w[1] })],
        global: { nuslerp_flatten: true, nuslerp_row_wise: false },
      });
      const t = w[1] / (w[0] + w[1]);
      expect(bits(nuslerpMethod.merge(ctx))).toEqual(f32Bits(lerp([3, 4], [...other], t)));
    }
  });

  it("interpolates each row (last axis) without flattening", () => {
    const out = merge({ w: [1, 1], shape: [2, 2], global: { nuslerp_flatten: false } });
    const rows = [
      mix(theta1.slice(0, 2), theta2.slice(0, 2), 0.5),
      mix(theta1.slice(2), theta2.slice(2), 0.5),
    ];
    expect(bits(out)).toEqual(f32Bits(rows.flat()));
  });

  it("interpolates each column (first axis) with nuslerp_row_wise", () => {
    const out = merge({
      w: [1, 1],
      shape: [2, 2],
      global: { nuslerp_flatten: false, nuslerp_row_wise: true },
    });
    const col0 = mix([theta1[0]!, theta1[2]!], [theta2[0]!, theta2[2]!], 0.5);
    const col1 = mix([theta1[1]!, theta1[3]!], [theta2[1]!, theta2[3]!], 0.5);
    expect(bits(out)).toEqual(f32Bits([col0[0]!, col1[0]!, col0[1]!, col1[1]!]));
  });

  it("ignores nuslerp_row_wise when flattening", () => {
    const flat = merge({ w: [1, 2], shape: [2, 2] });
    expect(bits(merge({ w: [1, 2], shape: [2, 2], global: { nuslerp_row_wise: true } }))).toEqual(bits(flat));
  });

  it("needs exactly two models with weights", () => {
    const one = context({
      inputs: [input("m1", theta1, { weight: 1 })],
      global: { nuslerp_flatten: true, nuslerp_row_wise: false },
    });
    expect(
      isHubmergeError(
        caught(() => nuslerpMethod.merge(one)),
        "E_MERGE",
      ),
    ).toBe(true);
    const noWeight = context({
      inputs: [input("m1", theta1, { weight: 1 }), input("m2", theta2)],
      global: { nuslerp_flatten: true, nuslerp_row_wise: false },
    });
    const error = caught(() => nuslerpMethod.merge(noWeight));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
    expect((error as { where: { model?: string } }).where.model).toBe("m2");
  });
});
