import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { slerpMethod } from "../../../src/merge/methods/slerp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";

const f = Math.fround;

/** Plain f64 dot product; for these few elements it equals the blocked reduction. */
function dot(x: readonly number[], y: readonly number[]): number {
  return x.reduce((sum, value, i) => sum + f(value) * f(y[i]!), 0);
}

function cosine(v0: readonly number[], v1: readonly number[]): number {
  const n0 = Math.sqrt(dot(v0, v0));
  const n1 = Math.sqrt(dot(v1, v1));
  return dot(v0, v1) / ((n0 > 1e-8 ? n0 : 1) * (n1 > 1e-8 ? n1 : 1));
}

function combine(a: number, b: number, v0: readonly number[], v1: readonly number[]): number[] {
  return v0.map((value, i) => f(f(a * f(value)) + f(b * f(v1[i]!))));
}

function expectedSlerp(v0: readonly number[], v1: readonly number[], t: number): number[] {
  const omega = Math.acos(cosine(v0, v1));
  const a = f(Math.sin(omega - omega * t) / Math.sin(omega));
  const b = f(Math.sin(omega * t) / Math.sin(omega));
  return combine(a, b, v0, v1);
}

function expectedLerp(v0: readonly number[], v1: readonly number[], t: number): number[] {
  return combine(f(1 - t), f(t), v0, v1);
}

function merge(v0: readonly number[], v1: readonly number[], t: number, shape?: number[]): Float32Array {
  const ctx = context({
    base: input("base", v0, {}, shape),
    inputs: [input("ft", v1, {}, shape)],
    global: { t },
  });
  return slerpMethod.merge(ctx);
}

const v0 = [1, 2, -0.5, 0.25];
const v1 = [0.3, -1, 2, 1.5];

describe("slerp", () => {
  it("declares mergekit's name and the required global t", () => {
    expect(slerpMethod.name).toBe("slerp");
    expect(slerpMethod.base).toBe("required");
    expect([slerpMethod.minModels, slerpMethod.maxModels]).toEqual([1, 1]);
    expect(slerpMethod.globalParams).toEqual([expect.objectContaining({ name: "t", required: true })]);
  });

  it("weights the original tensors by sin(Ω − tΩ)/sin Ω and sin(tΩ)/sin Ω, rounded once", () => {
    expect(Math.abs(cosine(v0, v1))).toBeLessThan(0.9995);
    for (const t of [0.3, 0.5, 0.9])
      expect(bits(merge(v0, v1, t))).toEqual(f32Bits(expectedSlerp(v0, v1, t)));
  });

  it("moves along the great circle for equal-norm vectors", () => {
    const out = merge([1, 0, 0], [0, 0.6, 0.8], 1 / 3);
    const angle = Math.PI / 6;
    expect(out[0]).toBeCloseTo(Math.cos(angle), 6);
    expect(out[1]).toBeCloseTo(Math.sin(angle) * 0.6, 6);
    expect(out[2]).toBeCloseTo(Math.sin(angle) * 0.8, 6);
  });

  it("returns v0 at t = 0 and v1 at t = 1 exactly", () => {
    expect(bits(merge(v0, v1, 0))).toEqual(f32Bits(v0));
    expect(bits(merge(v0, v1, 1))).toEqual(f32Bits(v1));
  });

  it("falls back to lerp (1 − t)·v0 + t·v1 when nearly parallel", () => {
    const near = v0.map((value, i) => value * 1.01 + (i === 0 ? 0.01 : 0));
    expect(cosine(v0, near)).toBeGreaterThan(0.9995);
    expect(bits(merge(v0, near, 0.3))).toEqual(f32Bits(expectedLerp(v0, near, 0.3)));
    expect(bits(merge(v0, near, 0))).toEqual(f32Bits(v0));
    expect(bits(merge(v0, near, 1))).toEqual(f32Bits(near));
  });

  it("falls back to lerp when nearly anti-parallel", () => {
    const opposite = v0.map((value) => -2 * value);
    expect(bits(merge(v0, opposite, 0.25))).toEqual(f32Bits(expectedLerp(v0, opposite, 0.25)));
  });

  it("leaves a zero tensor unnormalised, as mergekit does (angle π/2)", () => {
    const zero = [0, 0, 0, 0];
    const a = f(Math.sin(Math.PI / 2 - (Math.PI / 2) * 0.5));
    const b = f(Math.sin((Math.PI / 2) * 0.5));
    expect(bits(merge(zero, v1, 0.5))).toEqual(f32Bits(combine(a, b, zero, v1)));
  });

  it("flattens matrices", () => {
    expect(bits(merge(v0, v1, 0.3, [2, 2]))).toEqual(bits(merge(v0, v1, 0.3)));
  });

  it("needs a base, exactly one other model and t", () => {
    const noBase = context({ inputs: [input("ft", v1)], global: { t: 0.5 } });
    expect(
      isHubmergeError(
        caught(() => slerpMethod.merge(noBase)),
        "E_MERGE",
      ),
    ).toBe(true);
    const three = context({
      base: input("b", v0),
      inputs: [input("x", v1), input("y", v1)],
      global: { t: 0.5 },
    });
    expect(
      isHubmergeError(
        caught(() => slerpMethod.merge(three)),
        "E_MERGE",
      ),
    ).toBe(true);
    const noT = context({ base: input("b", v0), inputs: [input("x", v1)] });
    expect(
      isHubmergeError(
        caught(() => slerpMethod.merge(noT)),
        "E_MERGE",
      ),
    ).toBe(true);
  });
});
