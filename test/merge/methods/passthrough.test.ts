import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { passthroughMethod } from "../../../src/merge/methods/passthrough.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";

const values = [0.1, -0, 3.5, Number.NaN, -7.25];

describe("passthrough", () => {
  it("copies the tensor unchanged without scale (bits, -0 and NaN included)", () => {
    const ctx = context({ inputs: [input("a", values)] });
    expect(bits(passthroughMethod.merge(ctx))).toEqual(f32Bits(values));
  });

  it("multiplies by f32(scale) with one rounding", () => {
    const ctx = context({ inputs: [input("a", values, { scale: 0.1 })] });
    const expected = values.map((value) => Math.fround(Math.fround(value) * Math.fround(0.1)));
    expect(bits(passthroughMethod.merge(ctx))).toEqual(f32Bits(expected));
  });

  it("accepts exactly one input and no separate base", () => {
    const two = context({ inputs: [input("a", values), input("b", values)] });
    expect(
      isHubmergeError(
        caught(() => passthroughMethod.merge(two)),
        "E_MERGE",
      ),
    ).toBe(true);
    const withBase = context({ base: input("base", values), inputs: [input("a", values)] });
    expect(
      isHubmergeError(
        caught(() => passthroughMethod.merge(withBase)),
        "E_INTERNAL",
      ),
    ).toBe(true);
  });

  it("declares an optional per-model scale", () => {
    expect(passthroughMethod.perModelParams).toEqual([
      expect.objectContaining({ name: "scale", type: "number" }),
    ]);
    expect(passthroughMethod.perModelParams[0]!.required).toBeFalsy();
  });
});
