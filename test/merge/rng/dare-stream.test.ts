import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  dareMask,
  dareMaskRange,
  dareStream,
  fillDareMask,
  keepThreshold,
  keyFor,
  streamFor,
} from "../../../src/merge/rng/dare-stream.js";
import { fillUniform24 } from "../../../src/merge/rng/philox.js";

// The test vectors of docs/rng.md.
const MODEL = "org/math-ft";
const TENSOR = "model.layers.0.mlp.down_proj.weight";
const SEED = 0x0123456789abcdefn;

describe("the DARE stream spec (docs/rng.md vectors)", () => {
  it("splits the seed into (low, high) words", () => {
    expect(keyFor(SEED)).toEqual([0x89abcdef, 0x01234567]);
    expect(keyFor(0n)).toEqual([0, 0]);
    expect(keyFor(2n ** 64n - 1n)).toEqual([0xffffffff, 0xffffffff]);
  });

  it("rejects seeds outside u64", () => {
    for (const seed of [-1n, 2n ** 64n]) {
      expect(() => keyFor(seed)).toThrow(expect.objectContaining({ code: "E_MERGE" }));
    }
  });

  it("derives the stream from SHA-256(model NUL tensor), little-endian", () => {
    const digest = createHash("sha256").update(`${MODEL}\u0000${TENSOR}`).digest("hex");
    expect(digest.slice(0, 16)).toBe("3820c28489068930");
    expect(streamFor(MODEL, TENSOR)).toEqual([0x84c22038, 0x30890689]);
    expect(streamFor("é", "t")).toEqual([0x0e72a967, 0x86efac87]); // UTF-8: c3 a9 00 74
  });

  it("yields the documented first uniforms and far-away ones", () => {
    const { key, stream } = dareStream(SEED, MODEL, TENSOR);
    const first = new Uint32Array(8);
    fillUniform24(first, 0, key, stream);
    expect(Array.from(first)).toEqual([
      0x37e880, 0xbd8c0b, 0x6bc64f, 0xf2dd8e, 0x5fcd30, 0x7e36ab, 0xa6cd7e, 0xe8491b,
    ]);
    const far = new Uint32Array(3);
    fillUniform24(far, 2 ** 34 + 1, key, stream);
    expect(Array.from(far)).toEqual([0xe5da48, 0x999948, 0xa0162c]);
  });

  it("keeps u24 < round(p·2^24)", () => {
    expect(keepThreshold(0)).toBe(0);
    expect(keepThreshold(1)).toBe(2 ** 24);
    expect(keepThreshold(0.3)).toBe(5033165);
    expect(keepThreshold(0.5)).toBe(2 ** 23);
    for (const bad of [-0.1, 1.01, Number.NaN]) expect(() => keepThreshold(bad)).toThrow(RangeError);
    expect(Array.from(dareMask(16, SEED, MODEL, TENSOR, 0.3)).join("")).toBe("1000000000000011");
  });
});

describe("dareMask", () => {
  it("equals the slice of the whole mask for any range and any chunking", () => {
    const whole = dareMask(5000, SEED, MODEL, TENSOR, 0.4);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), (x, y) => {
        const [from, to] = x <= y ? [x, y] : [y, x];
        expect(dareMaskRange(from, to, SEED, MODEL, TENSOR, 0.4)).toEqual(whole.subarray(from, to));
      }),
      { numRuns: 50 },
    );
    const pieces = new Uint8Array(5000);
    const source = dareStream(SEED, MODEL, TENSOR);
    for (let at = 0; at < 5000; at += 777) {
      fillDareMask(pieces.subarray(at, Math.min(5000, at + 777)), at, source, keepThreshold(0.4));
    }
    expect(pieces).toEqual(whole);
  });

  it.each([0.05, 0.1, 0.3, 0.5, 0.9])("keeps a fraction within 6σ of density %f", (density) => {
    const n = 200_000;
    const kept = dareMask(n, 42n, MODEL, TENSOR, density).reduce((sum, bit) => sum + bit, 0);
    const sigma = Math.sqrt(n * density * (1 - density));
    expect(Math.abs(kept - n * density)).toBeLessThan(6 * sigma);
  });

  it("keeps everything at density 1 and nothing at density 0", () => {
    expect(dareMask(1000, 7n, MODEL, TENSOR, 1).every((bit) => bit === 1)).toBe(true);
    expect(dareMask(1000, 7n, MODEL, TENSOR, 0).every((bit) => bit === 0)).toBe(true);
  });

  it("is identical for the same seed and differs for another seed, model or tensor", () => {
    const mask = dareMask(4096, 1234n, MODEL, TENSOR, 0.5);
    expect(dareMask(4096, 1234n, MODEL, TENSOR, 0.5)).toEqual(mask);
    for (const other of [
      dareMask(4096, 1235n, MODEL, TENSOR, 0.5),
      dareMask(4096, 1234n + (1n << 32n), MODEL, TENSOR, 0.5),
      dareMask(4096, 1234n, "org/code-ft", TENSOR, 0.5),
      dareMask(4096, 1234n, MODEL, "model.layers.1.mlp.down_proj.weight", 0.5),
    ]) {
      const differing = other.reduce((count, bit, i) => count + (bit === mask[i] ? 0 : 1), 0);
      expect(differing).toBeGreaterThan(1500); // ~2048 expected for independent masks
    }
  });

  it("rejects a bad range", () => {
    expect(() => dareMaskRange(5, 4, SEED, MODEL, TENSOR, 0.5)).toThrow(RangeError);
  });
});
