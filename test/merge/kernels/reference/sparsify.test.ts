import { describe, expect, it } from "vitest";
import { sparsify, type SparsifyOptions } from "../../../../src/merge/kernels/reference/sparsify.js";
import {
  applyMask,
  dareSparsify,
  dellaSparsify,
  l1NormF64,
  magnitudeTopKMask,
} from "../../../../src/merge/kernels/reference/primitives.js";
import { dareMask, dareStream, keepThreshold } from "../../../../src/merge/rng/dare-stream.js";

const f32 = Math.fround;
const base: SparsifyOptions = {
  method: "random",
  density: 0.5,
  rescale: true,
  dareRescale: "paper",
  seed: 9n,
  model: "org/ft",
  tensorName: "layer.weight",
};

function sample(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.01);
}

function run(options: Partial<SparsifyOptions>, values = sample(64)): Float32Array {
  const out = values.slice();
  sparsify(out, { ...base, ...options });
  return out;
}

describe("sparsify", () => {
  it("leaves the tensor unchanged at density 1, whatever the method", () => {
    const values = sample(64);
    for (const method of ["magnitude", "random", "magnitude_outliers", "della_magprune"] as const) {
      expect(run({ method, density: 1, epsilon: 0.1 })).toEqual(values);
    }
  });

  it("random/paper divides survivors by the density", () => {
    const expected = sample(64);
    dareSparsify(expected, 0, dareStream(9n, "org/ft", "layer.weight"), keepThreshold(0.5), 0.5);
    expect(run({})).toEqual(expected);
  });

  it("random/l1 matches the unmasked L1 norm (mergekit's rescale)", () => {
    const values = sample(64);
    const masked = values.slice();
    applyMask(masked, dareMask(64, 9n, "org/ft", "layer.weight", 0.5));
    const factor = f32(l1NormF64(values) / l1NormF64(masked));
    expect(run({ dareRescale: "l1" })).toEqual(masked.map((x) => f32(x * factor)));
  });

  it("random without rescale only masks", () => {
    const masked = sample(64);
    applyMask(masked, dareMask(64, 9n, "org/ft", "layer.weight", 0.5));
    expect(run({ rescale: false, dareRescale: "l1" })).toEqual(masked);
  });

  it("magnitude with rescale matches L1 norms in either mode", () => {
    const values = Float32Array.of(4, -1, 2, -3);
    const kept = Float32Array.of(4, 0, 0, -3);
    const factor = f32(10 / 7);
    const expected = kept.map((x) => f32(x * factor));
    expect(run({ method: "magnitude", dareRescale: "paper" }, values)).toEqual(expected);
    expect(run({ method: "magnitude", dareRescale: "l1" }, values)).toEqual(expected);
    expect(run({ method: "magnitude", rescale: false }, values)).toEqual(kept);
    expect(run({ method: "magnitude", density: 0.2, rescale: false }, values)).toEqual(new Float32Array(4));
    expect(magnitudeTopKMask(values, 2)).toEqual(Uint8Array.of(1, 0, 0, 1));
  });

  it("magnitude_outliers drops the top γ and the bottom", () => {
    const values = Float32Array.of(1, -2, 3, -4, 5, -6, 7, -8, 9, -10);
    const out = run({ method: "magnitude_outliers", density: 0.5, gamma: 0.1, rescale: false }, values);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 5, -6, 7, -8, 9, 0]);
  });

  it("della: zero at density 0, 1/p in paper mode, L1 matching in l1 mode", () => {
    expect(run({ method: "della_magprune", density: 0, epsilon: 0.1 })).toEqual(new Float32Array(64));
    const source = dareStream(9n, "org/ft", "layer.weight");
    const paper = sample(64);
    dellaSparsify(paper, 8, source, 0.5, 0.1, true);
    expect(run({ method: "della_magprune", epsilon: 0.1, rowLength: 8 })).toEqual(paper);
    const values = sample(64);
    const masked = values.slice();
    dellaSparsify(masked, 8, source, 0.5, 0.1, false);
    const factor = f32(l1NormF64(values) / l1NormF64(masked));
    const l1 = run({ method: "della_magprune", epsilon: 0.1, rowLength: 8, dareRescale: "l1" }, values);
    expect(l1).toEqual(masked.map((x) => f32(x * factor)));
  });
});
