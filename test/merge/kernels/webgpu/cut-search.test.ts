import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { magnitudeRankRangeMask } from "../../../../src/merge/kernels/reference/magnitude-select.js";
import {
  boundInSegment,
  chooseBucket,
  chooseKey,
  cutWords,
  magnitudeKey,
  type CutSearch,
} from "../../../../src/merge/kernels/webgpu/cut-search.js";
import { encodeFromF32 } from "../../../../src/safetensors/dtype.js";

/** The GPU's cut, computed on the CPU: histograms, choices, the bound from one whole-tensor segment. */
function cut(values: Float32Array, k: number): { key: number; bound: number } {
  const keys = Array.from(new Uint32Array(values.buffer), magnitudeKey);
  const high = new Uint32Array(32768);
  keys.forEach((key) => high[key >>> 16]!++);
  const search: CutSearch = { model: 0, end: 0, k };
  chooseBucket(search, high);
  const low = new Uint32Array(65536);
  keys.forEach((key) => key >>> 16 === search.bucket && low[key & 0xffff]!++);
  chooseKey(search, low);
  if (search.bound === undefined) {
    const source = {
      base: { bytes: encodeFromF32(new Float32Array(values.length), "F32"), dtype: "F32" as const },
      model: { bytes: encodeFromF32(values, "F32"), dtype: "F32" as const },
    };
    search.bound = boundInSegment(search, source, 0, values.length, 0);
  }
  return cutWords(search);
}

describe("cut search", () => {
  it("keeps exactly the reference's top k (ties in index order, NaN above Inf)", () => {
    const value = fc.oneof(
      fc.constantFrom(0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 1e-40),
      fc.float({ noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.nat(), (list, pick) => {
        const values = Float32Array.from(list);
        const k = 1 + (pick % values.length);
        const { key, bound } = cut(values, k);
        const expected = magnitudeRankRangeMask(values, 0, k);
        const keys = new Uint32Array(values.buffer);
        keys.forEach((bits, i) => {
          const kept = magnitudeKey(bits) > key || (magnitudeKey(bits) === key && i < bound);
          expect(kept ? 1 : 0).toBe(expected[i]);
        });
      }),
      { numRuns: 300 },
    );
  });
});
