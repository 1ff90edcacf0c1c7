import { describe, expect, it } from "vitest";
import { covers, cropLeading, elementCount } from "../../../src/merge/kernels/layout.js";

describe("cropLeading", () => {
  it("takes the leading rows and columns of a matrix", () => {
    const data = Float32Array.from([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    expect(Array.from(cropLeading(data, [4, 3], [2, 2]))).toEqual([0, 1, 10, 11]);
    expect(Array.from(cropLeading(data, [4, 3], [4, 3]))).toEqual(Array.from(data));
  });

  it("works for vectors, scalars and higher ranks", () => {
    expect(Array.from(cropLeading(Float32Array.from([1, 2, 3]), [3], [2]))).toEqual([1, 2]);
    expect(Array.from(cropLeading(Float32Array.from([7]), [], []))).toEqual([7]);
    const cube = Float32Array.from({ length: 24 }, (_, i) => i); // [2, 3, 4]
    expect(Array.from(cropLeading(cube, [2, 3, 4], [2, 2, 2]))).toEqual([0, 1, 4, 5, 12, 13, 16, 17]);
    expect(cropLeading(cube, [2, 3, 4], [0, 3, 4]).length).toBe(0);
  });

  it("refuses shapes that do not cover the target", () => {
    expect(covers([4, 3], [4, 4])).toBe(false);
    expect(covers([4], [4, 1])).toBe(false);
    expect(() => cropLeading(new Float32Array(4), [2, 2], [3, 1])).toThrow(RangeError);
    expect(elementCount([])).toBe(1);
    expect(elementCount([2, 0, 5])).toBe(0);
  });
});
