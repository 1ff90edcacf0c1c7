import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  accumulate,
  addScaled,
  agreeingSum,
  applyMask,
  dareSparsify,
  dellaBounds,
  dellaKeepProbability,
  dellaSparsify,
  divideInPlace,
  l1NormF64,
  l1Rescale,
  rowAscendingRanks,
  scaleInPlace,
  signElection,
  subtract,
  weightedAccumulate,
} from "../../../../src/merge/kernels/reference/primitives.js";
import { dareMask, dareStream, keepThreshold } from "../../../../src/merge/rng/dare-stream.js";

const f32 = Math.fround;
const source = dareStream(77n, "org/ft", "t.weight");

function deltas(n: number, mean = 0.003, spread = 0.004): Float32Array {
  let state = 5;
  return new Float32Array(n).map(() => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return mean + (state / 2 ** 32 - 0.5) * 2 * spread;
  });
}

describe("elementwise primitives", () => {
  it("round every operation to f32", () => {
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(finite, finite, finite, (a, b, w) => {
        const out = new Float32Array(1);
        subtract(Float32Array.of(a), Float32Array.of(b), out);
        expect(out[0]).toBe(f32(a - b));
        const acc = Float32Array.of(b);
        weightedAccumulate(acc, Float32Array.of(a), w);
        expect(acc[0]).toBe(f32(b + f32(f32(w) * a)));
        addScaled(Float32Array.of(b), Float32Array.of(a), w, out);
        expect(out[0]).toBe(f32(b + f32(f32(w) * a)));
      }),
    );
    const values = Float32Array.of(1, 3);
    scaleInPlace(values, 0.1);
    expect(Array.from(values)).toEqual([f32(f32(0.1)), f32(3 * f32(0.1))]);
    divideInPlace(values, 3);
    expect(values[1]).toBe(f32(f32(3 * f32(0.1)) / 3));
    divideInPlace(values, Float32Array.of(2, 4));
    const sum = Float32Array.of(0.1);
    accumulate(sum, Float32Array.of(0.2));
    expect(sum[0]).toBe(f32(f32(0.1) + f32(0.2)));
  });

  it("turn dropped elements into +0", () => {
    const values = Float32Array.of(-1, Number.NaN, 2);
    applyMask(values, Uint8Array.of(0, 0, 1));
    expect(Object.is(values[0], 0)).toBe(true);
    expect(Array.from(values)).toEqual([0, 0, 2]);
  });
});

describe("dareSparsify", () => {
  it("drops by the stream's mask and divides survivors by f32(density)", () => {
    const delta = deltas(5000);
    const original = delta.slice();
    dareSparsify(delta, 0, source, keepThreshold(0.3), 0.3);
    const mask = dareMask(5000, 77n, "org/ft", "t.weight", 0.3);
    for (let i = 0; i < delta.length; i++) {
      expect(delta[i]).toBe(mask[i] ? f32(original[i]! / f32(0.3)) : 0);
    }
  });

  it("leaves survivors alone without a divisor, and honours the start offset", () => {
    const delta = deltas(1000);
    const tail = delta.slice(400);
    dareSparsify(delta, 0, source, keepThreshold(0.5));
    dareSparsify(tail, 400, source, keepThreshold(0.5));
    expect(tail).toEqual(delta.subarray(400));
    const mask = dareMask(1000, 77n, "org/ft", "t.weight", 0.5);
    expect(delta.every((x, i) => (mask[i] ? x !== 0 : x === 0))).toBe(true);
  });

  it.each([0.1, 0.3, 0.7])("keeps the expected sum of the delta at density %f (6σ)", (density) => {
    const delta = deltas(100_000);
    const expected = delta.reduce((a, b) => a + b, 0);
    const variance = delta.reduce((a, x) => a + x * x, 0) * ((1 - density) / density);
    dareSparsify(delta, 0, source, keepThreshold(density), density);
    const actual = delta.reduce((a, b) => a + b, 0);
    expect(Math.abs(actual - expected)).toBeLessThan(6 * Math.sqrt(variance));
  });
});

describe("l1Rescale", () => {
  it("scales by f32(‖before‖₁ / ‖after‖₁)", () => {
    const delta = deltas(3000);
    const before = l1NormF64(delta);
    const masked = delta.slice();
    applyMask(masked, dareMask(3000, 1n, "m", "t", 0.4));
    const kept = masked.slice();
    l1Rescale(masked, before);
    const factor = f32(before / l1NormF64(kept));
    expect(masked).toEqual(kept.map((x) => f32(x * factor)));
  });

  it("does nothing when a norm is below 1e-7", () => {
    const tiny = Float32Array.of(1e-8, 0);
    l1Rescale(tiny, 1);
    expect(Array.from(tiny)).toEqual([f32(1e-8), 0]);
    const values = Float32Array.of(1, 2);
    l1Rescale(values, 5e-8);
    expect(Array.from(values)).toEqual([1, 2]);
  });
});

describe("DELLA", () => {
  it("gives keep probabilities from d − ε (smallest) to d + ε (largest), rising with rank", () => {
    const { lo, span } = dellaBounds(0.4, 0.15);
    expect(lo).toBe(f32(f32(0.4) - f32(0.15)));
    expect(span).toBe(f32(2 * f32(0.15)));
    let previous = -1;
    for (let rank = 0; rank < 50; rank++) {
      const p = dellaKeepProbability(rank, 50, lo, span);
      expect(p).toBeGreaterThanOrEqual(previous);
      expect(p).toBeGreaterThanOrEqual(f32(0.25) - 1e-7);
      expect(p).toBeLessThanOrEqual(f32(0.55) + 1e-7);
      previous = p;
    }
    expect(dellaKeepProbability(0, 50, lo, span)).toBe(lo);
    expect(dellaKeepProbability(49, 50, lo, span)).toBe(f32(lo + span));
    expect(dellaKeepProbability(0, 1, lo, span)).toBe(f32(lo + f32(0.5 * span)));
  });

  it("keeps each rank at its probability and divides survivors by it", () => {
    const rowLength = 10;
    const delta = deltas(rowLength * 20_000, 0, 1);
    const original = delta.slice();
    const ranks = new Uint32Array(delta.length);
    rowAscendingRanks(original, rowLength, ranks);
    dellaSparsify(delta, rowLength, source, 0.5, 0.2, true);
    const { lo, span } = dellaBounds(0.5, 0.2);
    const keptPerRank = new Array<number>(rowLength).fill(0);
    let wronglyScaled = 0;
    for (let i = 0; i < delta.length; i++) {
      const p = dellaKeepProbability(ranks[i]!, rowLength, lo, span);
      if (delta[i] === 0) continue;
      keptPerRank[ranks[i]!]!++;
      if (delta[i] !== f32(original[i]! / p)) wronglyScaled++;
    }
    expect(wronglyScaled).toBe(0);
    keptPerRank.forEach((kept, rank) => {
      const p = dellaKeepProbability(rank, rowLength, lo, span);
      const rows = delta.length / rowLength;
      expect(Math.abs(kept - rows * p)).toBeLessThan(6 * Math.sqrt(rows * p * (1 - p)));
    });
  });
});

describe("sign election and the consensus mix", () => {
  const a = Float32Array.of(3, -1, 0, 2, 1, -2, Number.NaN);
  const b = Float32Array.of(-1, 2, 0, -2, 1, 2, 1);

  it("elects by the sum (ties and zeros → +1, NaN → −1)", () => {
    expect(Array.from(signElection([a, b], "sum"))).toEqual([1, 1, 1, 1, 1, 1, -1]);
    expect(Array.from(signElection([b.map((x) => -x)], "sum"))).toEqual([1, -1, 1, 1, -1, -1, -1]);
  });

  it("elects by the count of signs (NaN counts 0)", () => {
    const c = Float32Array.of(-5, -5, -5, 0, 0, 0, 0);
    expect(Array.from(signElection([a, b, c], "count"))).toEqual([-1, -1, -1, 1, 1, 1, 1]);
  });

  it("sums agreeing values and weights only (zeros and NaN never agree)", () => {
    const majority = signElection([a, b], "sum");
    const mixed = new Float32Array(7);
    const divisor = new Float32Array(7);
    agreeingSum([a, b], [0.5, 2], majority, mixed, divisor);
    expect(Array.from(mixed)).toEqual([3, 2, 0, 2, 2, 2, 0]);
    expect(Array.from(divisor)).toEqual([0.5, 2, 0, 0.5, 2.5, 2, 0]);
  });
});
