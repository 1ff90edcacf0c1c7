import { describe, expect, it } from "vitest";
import {
  REDUCTION_BLOCK,
  blockedDot,
  blockedDotStrided,
  blockedPairSums,
  blockedSumSquares,
  vectorViews,
} from "../../../../src/merge/kernels/reference/reductions.js";

/** The project's definition written out independently: f64 partial sums per block, then in order. */
function referenceDot(a: readonly number[], b: readonly number[]): number {
  const partials: number[] = [];
  for (let start = 0; start < a.length; start += REDUCTION_BLOCK) {
    let partial = 0;
    for (let i = start; i < Math.min(a.length, start + REDUCTION_BLOCK); i++) partial += a[i]! * b[i]!;
    partials.push(partial);
  }
  return partials.reduce((total, partial) => total + partial, 0);
}

function pseudoRandom(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * (i % 7 === 0 ? 1000 : 0.001);
  }
  return out;
}

describe("blocked reductions", () => {
  it("sum in f64 within 65536-element blocks, then the partial sums in order", () => {
    const a = pseudoRandom(2 * REDUCTION_BLOCK + 5, 1);
    const b = pseudoRandom(2 * REDUCTION_BLOCK + 5, 2);
    expect(blockedDot(a, b)).toBe(referenceDot(Array.from(a), Array.from(b)));
    expect(blockedSumSquares(a)).toBe(referenceDot(Array.from(a), Array.from(a)));
    // The block structure is observable: one sequential sum over everything rounds differently.
    let sequential = 0;
    for (let i = 0; i < a.length; i++) sequential += a[i]! * b[i]!;
    expect(blockedDot(a, b)).not.toBe(sequential);
  });

  it("give 0 for empty arrays and exact products in f64", () => {
    expect(blockedDot(new Float32Array(0), new Float32Array(0))).toBe(0);
    const x = Math.fround(1 + 2 ** -23);
    expect(blockedSumSquares(Float32Array.of(x))).toBe(x * x);
  });

  it("block a strided vector by its own element count", () => {
    const values = pseudoRandom(3 * (REDUCTION_BLOCK + 1), 3);
    const column = Array.from({ length: REDUCTION_BLOCK + 1 }, (_, i) => values[1 + 3 * i]!);
    const view = { offset: 1, stride: 3, length: REDUCTION_BLOCK + 1 };
    expect(blockedDotStrided(values, values, view)).toBe(referenceDot(column, column));
  });

  it("fuse dot and both squared norms without changing any of them", () => {
    const a = pseudoRandom(2 * REDUCTION_BLOCK + 5, 4);
    const b = pseudoRandom(2 * REDUCTION_BLOCK + 5, 5);
    const view = { offset: 0, stride: 1, length: a.length };
    expect(blockedPairSums(a, b, view)).toEqual({
      dot: blockedDot(a, b),
      squaresA: blockedSumSquares(a),
      squaresB: blockedSumSquares(b),
    });
  });
});

describe("vectorViews", () => {
  it("splits a matrix into rows or columns and flattens on request", () => {
    expect(vectorViews([2, 3], "all")).toEqual([{ offset: 0, stride: 1, length: 6 }]);
    expect(vectorViews([2, 3], "last")).toEqual([
      { offset: 0, stride: 1, length: 3 },
      { offset: 3, stride: 1, length: 3 },
    ]);
    expect(vectorViews([2, 3], "first")).toEqual([
      { offset: 0, stride: 3, length: 2 },
      { offset: 1, stride: 3, length: 2 },
      { offset: 2, stride: 3, length: 2 },
    ]);
  });

  it("keeps rank 0 and 1 tensors whole", () => {
    expect(vectorViews([4], "first")).toEqual([{ offset: 0, stride: 1, length: 4 }]);
    expect(vectorViews([], "last")).toEqual([{ offset: 0, stride: 1, length: 1 }]);
  });
});
