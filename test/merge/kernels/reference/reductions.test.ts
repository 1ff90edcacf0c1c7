import { describe, expect, it } from "vitest";
import {
  blockedSumF64,
  dotF64,
  l1NormF64,
  REDUCTION_BLOCK,
  sumSquaresF64,
} from "../../../../src/merge/kernels/reference/reductions.js";

function sample(n: number): Float32Array {
  let state = 99;
  return new Float32Array(n).map(() => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 10 ** ((state % 7) - 3);
  });
}

/** The documented order, written out: sequential per block from +0, then over blocks from +0. */
function blocked(values: Float32Array, term: (i: number) => number): number {
  const partials: number[] = [];
  for (let start = 0; start < values.length; start += REDUCTION_BLOCK) {
    let partial = 0;
    for (let i = start; i < Math.min(values.length, start + REDUCTION_BLOCK); i++) partial += term(i);
    partials.push(partial);
  }
  return partials.reduce((total, partial) => total + partial, 0);
}

describe("blocked f64 reductions", () => {
  const values = sample(2 * REDUCTION_BLOCK + 1234);
  const other = sample(values.length).reverse();

  it("sum in fixed blocks of 65536, then over blocks", () => {
    expect(REDUCTION_BLOCK).toBe(65536);
    expect(blockedSumF64(values, (x) => x)).toBe(blocked(values, (i) => values[i]!));
    expect(l1NormF64(values)).toBe(blocked(values, (i) => Math.abs(values[i]!)));
    expect(l1NormF64(values)).toBe(blockedSumF64(values, Math.abs));
    expect(dotF64(values, other)).toBe(blocked(values, (i) => values[i]! * other[i]!));
    expect(sumSquaresF64(values)).toBe(blocked(values, (i) => values[i]! ** 2));
  });

  it("differs from one long sequential sum (the order is part of the spec)", () => {
    let sequential = 0;
    for (const x of values) sequential += x;
    expect(blockedSumF64(values, (x) => x)).not.toBe(sequential);
  });

  it("sums nothing to +0 and rejects mismatched lengths", () => {
    expect(Object.is(l1NormF64(new Float32Array(0)), 0)).toBe(true);
    expect(() => dotF64(new Float32Array(2), new Float32Array(3))).toThrow(RangeError);
  });
});
