import { describe, expect, it } from "vitest";
import { compareSamples, median, percentile } from "../../src/compat/probe-stats.js";

describe("compareSamples", () => {
  it("gives cosine 1 and no delta for identical samples", () => {
    const a = Float32Array.from([0.5, -0.25, 1, 2]);
    expect(compareSamples(a, a.slice())).toEqual({
      elements: 4,
      cosine: 1,
      relativeDelta: 0,
      maxAbsDelta: 0,
      p99AbsDelta: 0,
    });
  });

  it("gives cosine 0 and ‖δ‖/‖θ₀‖ = √2 for orthogonal samples of equal norm", () => {
    const stats = compareSamples(Float32Array.from([1, 0, 0, 0]), Float32Array.from([0, 1, 0, 0]));
    expect(stats.cosine).toBe(0);
    expect(stats.relativeDelta).toBeCloseTo(Math.SQRT2, 12);
    expect(stats.maxAbsDelta).toBe(1);
  });

  it("measures a small delta", () => {
    const base = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.05);
    const tuned = base.map((x, i) => x + (i % 2 === 0 ? 0.002 : -0.002));
    const stats = compareSamples(base, tuned);
    expect(stats.p99AbsDelta).toBeCloseTo(0.002, 6);
    expect(stats.cosine).toBeGreaterThan(0.99);
  });

  it("leaves non-finite pairs out", () => {
    const stats = compareSamples(Float32Array.from([1, NaN, 2]), Float32Array.from([1, 5, Infinity]));
    expect(stats).toMatchObject({ elements: 1, cosine: 1, relativeDelta: 0 });
  });

  it("rejects samples of different lengths", () => {
    expect(() => compareSamples(new Float32Array(2), new Float32Array(3))).toThrow(RangeError);
  });
});

describe("percentile and median", () => {
  it("percentile equals the nearest-rank element of the sorted values, for any q", () => {
    const values = Float32Array.from({ length: 5001 }, (_, i) => Math.abs(Math.sin(i * 12.9898)) * 1e-3);
    const sorted = values.slice().sort();
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1]) {
      const rank = Math.min(values.length, Math.max(1, Math.ceil(q * values.length)));
      expect(percentile(values, q)).toBe(sorted[rank - 1]);
    }
    expect(values[0]).toBe(0); // the values are left as they were (no sort in place)
    expect(values[1]).toBe(Math.fround(Math.abs(Math.sin(12.9898)) * 1e-3));
  });

  it("use nearest rank and skip non-finite values", () => {
    expect(
      percentile(
        Float32Array.from({ length: 100 }, (_, i) => 100 - i),
        0.99,
      ),
    ).toBe(99);
    expect(percentile(new Float32Array(0), 0.99)).toBe(0);
    expect(percentile(Float32Array.of(0.5), 0.99)).toBe(0.5);
    expect(percentile(Float32Array.of(2, 0, 1, 3), 0.5)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3, NaN, Infinity])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
