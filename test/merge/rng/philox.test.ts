import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fillUniform24, mulhi32, philox4x32 } from "../../../src/merge/rng/philox.js";

/** An independent Philox4x32-10 on BigInt, straight from the Random123 description. */
function philoxBigInt(counter: readonly number[], key: readonly number[]): number[] {
  const mask = 0xffffffffn;
  let [c0, c1, c2, c3] = counter.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let round = 0; round < 10; round++) {
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [((p1 >> 32n) ^ c1 ^ k0) & mask, p1 & mask, ((p0 >> 32n) ^ c3 ^ k1) & mask, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [c0, c1, c2, c3].map(Number);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function run(counter: number[], key: number[]): number[] {
  const out = new Uint32Array(4);
  philox4x32(counter, key, out);
  return Array.from(out);
}

describe("philox4x32", () => {
  // Random123 kat_vectors: "philox4x32 10 <ctr ×4> <key ×2> <expected ×4>".
  it.each([
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ])("matches the Random123 known answer %#", (counter, key, expected) => {
    expect(run(counter, key)).toEqual(expected);
    expect(philoxBigInt(counter, key)).toEqual(expected);
  });

  it("agrees with an independent BigInt implementation", () => {
    fc.assert(
      fc.property(fc.tuple(u32, u32, u32, u32), fc.tuple(u32, u32), (counter, key) => {
        expect(run(counter, key)).toEqual(philoxBigInt(counter, key));
      }),
      { numRuns: 300 },
    );
  });

  it("computes the high word of 32×32-bit products exactly", () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }),
      { numRuns: 2000 },
    );
    expect(mulhi32(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
  });
});

describe("fillUniform24", () => {
  const key = [0x89abcdef, 0x01234567];
  const stream = [0x84c22038, 0x30890689];

  it("takes word i mod 4 of block floor(i/4), shifted right by 8", () => {
    const out = new Uint32Array(8);
    fillUniform24(out, 0, key, stream);
    const block0 = philoxBigInt([0, 0, stream[0]!, stream[1]!], key);
    const block1 = philoxBigInt([1, 0, stream[0]!, stream[1]!], key);
    expect(Array.from(out)).toEqual([...block0, ...block1].map((w) => w >>> 8));
  });

  it("puts blocks at or past 2^32 in counter word 1", () => {
    const start = 2 ** 34 + 6; // block 2^32 + 1, lane 2
    const out = new Uint32Array(3);
    fillUniform24(out, start, key, stream);
    const a = philoxBigInt([1, 1, stream[0]!, stream[1]!], key);
    const b = philoxBigInt([2, 1, stream[0]!, stream[1]!], key);
    expect(Array.from(out)).toEqual([a[2]!, a[3]!, b[0]!].map((w) => w >>> 8));
  });

  it("gives the same values however a range is split", () => {
    const whole = new Uint32Array(300);
    fillUniform24(whole, 1000, key, stream);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (x, y) => {
        const [from, to] = x <= y ? [x, y] : [y, x];
        const part = new Uint32Array(to - from);
        fillUniform24(part, 1000 + from, key, stream);
        expect(part).toEqual(whole.subarray(from, to));
      }),
    );
  });

  it("rejects a start that is not a non-negative safe integer", () => {
    expect(() => fillUniform24(new Uint32Array(1), -1, key, stream)).toThrow(RangeError);
    expect(() => fillUniform24(new Uint32Array(1), 0.5, key, stream)).toThrow(RangeError);
  });
});
