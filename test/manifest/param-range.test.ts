import { describe, expect, it } from "vitest";
import { describeRange, inRange } from "../../src/manifest/param-range.js";

describe("declared parameter ranges", () => {
  it("are inclusive unless marked exclusive, and open without a bound", () => {
    expect([0, 1, 0.5].map((v) => inRange({ min: 0, max: 1 }, v))).toEqual([true, true, true]);
    expect([-1e-9, 1.0000001].map((v) => inRange({ min: 0, max: 1 }, v))).toEqual([false, false]);
    expect([0, 1].map((v) => inRange({ min: 0, max: 1, minExclusive: true, maxExclusive: true }, v))).toEqual(
      [false, false],
    );
    expect(inRange({ min: 0 }, 1e300)).toBe(true);
    expect(inRange({}, -5)).toBe(true);
    expect(inRange({ min: 0 }, NaN)).toBe(false);
  });

  it("are written as intervals", () => {
    expect(describeRange({ min: 0, max: 1 })).toBe("[0, 1]");
    expect(describeRange({ min: 0, minExclusive: true })).toBe("(0, ∞)");
    expect(describeRange({ max: 2, maxExclusive: true })).toBe("(−∞, 2)");
  });
});
