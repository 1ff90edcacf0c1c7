import { describe, expect, it } from "vitest";
import { formatRange, inRange } from "../../src/manifest/param-range.js";

describe("inRange", () => {
  it("takes bounds as inclusive unless marked exclusive", () => {
    const density = { min: 0, minExclusive: true, max: 1 };
    expect([0, 1e-9, 0.5, 1, 1.0000001].map((v) => inRange(density, v))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    const epsilon = { min: 0, max: 1, maxExclusive: true };
    expect([-0.1, 0, 0.999, 1].map((v) => inRange(epsilon, v))).toEqual([false, true, true, false]);
  });

  it("accepts any number without a range or past an open side, and never NaN", () => {
    expect(inRange(undefined, -1e300)).toBe(true);
    expect(inRange({ min: 0 }, 1e300)).toBe(true);
    expect(inRange({ max: 0 }, -1e300)).toBe(true);
    expect(inRange({ min: 0, max: 1 }, Number.NaN)).toBe(false);
  });
});

describe("formatRange", () => {
  it("writes interval notation", () => {
    expect(formatRange({ min: 0, minExclusive: true, max: 1 })).toBe("(0, 1]");
    expect(formatRange({ min: 0, max: 1, maxExclusive: true })).toBe("[0, 1)");
    expect(formatRange({ min: 0, max: 1 })).toBe("[0, 1]");
    expect(formatRange({ min: 0 })).toBe("[0, ∞)");
    expect(formatRange({ max: 2, maxExclusive: true })).toBe("(−∞, 2)");
  });
});
