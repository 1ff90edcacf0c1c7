import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  kthLargestMagnitude,
  breadcrumbsCounts,
  magnitudeOutliersMask,
  magnitudeRankRangeMask,
  magnitudeTopKMask,
  rowAscendingRanks,
} from "../../../../src/merge/kernels/reference/magnitude-select.js";

/** The "larger first" order by sorting: |x| descending, NaN largest, ties by index. */
function largerFirst(values: Float32Array): number[] {
  const magnitude = (x: number) => (Number.isNaN(x) ? Infinity : Math.abs(x));
  const nan = (x: number) => (Number.isNaN(x) ? 1 : 0);
  return Array.from(values.keys()).sort((a, b) => {
    const [x, y] = [values[a]!, values[b]!];
    return nan(y) - nan(x) || magnitude(y) - magnitude(x) || a - b;
  });
}

function maskOfPositions(values: Float32Array, from: number, to: number): Uint8Array {
  const mask = new Uint8Array(values.length);
  for (const index of largerFirst(values).slice(from, to)) mask[index] = 1;
  return mask;
}

// Few distinct values, so ties are common; specials included.
const element = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2, -2, 0.5, Infinity, -Infinity, Number.NaN, 1e-45, -3.4e38),
  fc.float({ noNaN: true }),
);
const tensor = fc.array(element, { maxLength: 60 }).map((xs) => Float32Array.from(xs));

describe("magnitudeTopKMask", () => {
  it("keeps exactly the first k of the larger-first order", () => {
    fc.assert(
      fc.property(tensor, fc.integer({ min: -2, max: 70 }), (values, k) => {
        expect(magnitudeTopKMask(values, k)).toEqual(maskOfPositions(values, 0, Math.max(0, k)));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps ties at the threshold in index order", () => {
    const values = Float32Array.from([1, -3, 2, -2, 2, 0]);
    expect(Array.from(magnitudeTopKMask(values, 3))).toEqual([0, 1, 1, 1, 0, 0]);
  });

  it("counts NaN as the largest", () => {
    const values = Float32Array.from([Infinity, Number.NaN, 5]);
    expect(Array.from(magnitudeTopKMask(values, 1))).toEqual([0, 1, 0]);
  });

  it("selects exactly on a large tensor", () => {
    let state = 12345;
    const values = new Float32Array(30_000).map(() => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return ((state >>> 8) % 2001) / 1000 - 1; // many ties
    });
    const k = 9_337;
    const mask = magnitudeTopKMask(values, k);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(k);
    expect(mask).toEqual(maskOfPositions(values, 0, k));
  });
});

describe("magnitudeRankRangeMask", () => {
  it("keeps the positions [from, to) of the larger-first order", () => {
    fc.assert(
      fc.property(
        tensor,
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        (values, a, b) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          expect(magnitudeRankRangeMask(values, from, to)).toEqual(maskOfPositions(values, from, to));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("breadcrumbs", () => {
  it("counts like mergekit, moving a negative bottom into the top", () => {
    expect(breadcrumbsCounts(10, 0.5, 0.1)).toEqual({ top: 1, bottom: 4 });
    expect(breadcrumbsCounts(10, 0.95, 0.2)).toEqual({ top: 1, bottom: 0 });
    expect(breadcrumbsCounts(1000, 0.995, 0.01)).toEqual({ top: 5, bottom: 0 });
    expect(breadcrumbsCounts(10, 0.5, 0)).toEqual({ top: 0, bottom: 5 });
  });

  it("drops the largest and the smallest", () => {
    const values = Float32Array.from([1, -2, 3, -4, 5, -6, 7, -8, 9, -10]);
    expect(Array.from(magnitudeOutliersMask(values, 0.5, 0.1))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
    // gamma·n < 1: nothing is dropped at the top (mergekit would drop everything here).
    expect(Array.from(magnitudeOutliersMask(values, 0.5, 0))).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });
});

describe("rowAscendingRanks", () => {
  function oracle(values: Float32Array, rowLength: number): number[] {
    const ranks: number[] = [];
    for (let start = 0; start < values.length; start += rowLength) {
      const row = values.subarray(start, start + rowLength);
      const order = largerFirst(row);
      for (let j = 0; j < rowLength; j++) ranks[start + j] = rowLength - 1 - order.indexOf(j);
    }
    return ranks;
  }

  it("ranks within each row, smallest 0, ties: higher index lower (both sort paths)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 6 }),
        fc.infiniteStream(element),
        (m, rows, xs) => {
          const values = Float32Array.from(xs.take(m * rows));
          const packed = new Uint32Array(values.length);
          const compared = new Uint32Array(values.length);
          rowAscendingRanks(values, m, packed);
          rowAscendingRanks(values, m, compared, 0);
          expect(Array.from(packed)).toEqual(oracle(values, m));
          expect(compared).toEqual(packed);
        },
      ),
      { numRuns: 300 },
    );
    const ranks = new Uint32Array(4);
    rowAscendingRanks(Float32Array.from([2, -2, 1, Number.NaN]), 4, ranks);
    expect(Array.from(ranks)).toEqual([2, 1, 0, 3]);
  });

  it("rejects a length that is not whole rows", () => {
    expect(() => rowAscendingRanks(new Float32Array(5), 2, new Uint32Array(5))).toThrow(RangeError);
  });
});

describe("kthLargestMagnitude", () => {
  it("is the k-th largest |x| of a sort, NaN counting above +Inf, -0 as +0", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 1, maxLength: 300 }),
        (list) => {
          const values = Float32Array.from(list);
          // Descending by magnitude, every NaN above +Inf.
          const order = Array.from(values, (x) => (Number.isNaN(x) ? NaN : Math.abs(x))).sort((a, b) =>
            Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : b - a,
          );
          for (const k of [1, Math.ceil(values.length / 2), values.length]) {
            const expected = order[k - 1]!;
            const actual = kthLargestMagnitude(values, k);
            if (Number.isNaN(expected)) expect(actual).toBeNaN();
            else expect(Object.is(actual, expected + 0)).toBe(true); // -0 reads as +0
          }
        },
      ),
    );
  });

  it("refuses k outside 1..n", () => {
    expect(() => kthLargestMagnitude(Float32Array.of(1, 2), 0)).toThrow(RangeError);
    expect(() => kthLargestMagnitude(Float32Array.of(1, 2), 3)).toThrow(RangeError);
    expect(() => kthLargestMagnitude(Float32Array.of(1, 2), 1.5)).toThrow(RangeError);
  });
});
