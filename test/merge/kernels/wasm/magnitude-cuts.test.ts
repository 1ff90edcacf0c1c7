import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { magnitudeTopKMask } from "../../../../src/merge/kernels/reference/magnitude-select.js";
import { HIGH_BUCKETS, LOW_SLOTS } from "../../../../src/merge/kernels/wasm/abi.js";
import { localKernels } from "../../../support/wasm-kernels.js";
import { chooseBucket, chooseKey } from "../../../../src/merge/kernels/wasm/magnitude-cuts.js";

/** Order key of |x| (magnitude-select.ts), for building the mask from a cut. */
function key(bits: number): number {
  const k = bits & 0x7fffffff;
  return k > 0x7f800000 ? 0x7f800001 : k;
}

/**
 * The top-k mask computed the chunked way: histograms summed over chunks, then the cut, then each
 * chunk's share of cut-equal elements from the counts of the chunks before it.
 */
function chunkedTopKMask(values: Float32Array, k: number, chunk: number): Uint8Array {
  const kernels = localKernels();
  const at = kernels.heapBase;
  const high = at + values.byteLength + 64;
  const low = high + HIGH_BUCKETS * 4;
  const memory = kernels.reserve(values.byteLength + 64 + (HIGH_BUCKETS + LOW_SLOTS) * 4);
  memory.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  memory.fill(0, high, low + LOW_SLOTS * 4);
  const words = new Uint32Array(memory.buffer);
  const chunks: [number, number][] = [];
  for (let from = 0; from < values.length; from += chunk)
    chunks.push([from, Math.min(values.length, from + chunk)]);
  for (const [from, to] of chunks) kernels.exports.histogramHigh(at + from * 4, to - from, high);
  const bucket = chooseBucket(words.slice(high / 4, high / 4 + HIGH_BUCKETS), k);
  for (const [from, to] of chunks) kernels.exports.histogramLow(at + from * 4, to - from, bucket.bucket, low);
  const cut = chooseKey(words.slice(low / 4, low / 4 + LOW_SLOTS), k, bucket);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const mask = new Uint8Array(values.length);
  let before = 0;
  for (const [from, to] of chunks) {
    let seen = before;
    for (let i = from; i < to; i++) {
      const ki = key(bits[i]!);
      mask[i] = ki > cut.key || (ki === cut.key && seen++ < cut.take) ? 1 : 0;
    }
    before += kernels.exports.countKey(at + from * 4, to - from, cut.key) >>> 0;
  }
  return mask;
}

const value = fc.oneof(
  fc.float({ noDefaultInfinity: false }),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e-45, 0.5, -0.5, 0.25),
);

describe("exact top-k by histogram select", () => {
  it("matches magnitudeTopKMask for any k and any chunking (ties in index order, NaN largest)", () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 600 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 700 }),
        (list, fraction, chunk) => {
          const values = Float32Array.from(list);
          const k = Math.max(1, Math.min(values.length, Math.ceil(fraction * values.length)));
          expect(Array.from(chunkedTopKMask(values, k, chunk))).toEqual(
            Array.from(magnitudeTopKMask(values, k)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("counts keys exactly at lengths that are not multiples of the vector width", () => {
    const kernels = localKernels();
    const values = Float32Array.from([0.5, -0.5, NaN, 0.5, -NaN, 0.25, 0.5]);
    const memory = kernels.reserve(values.byteLength);
    memory.set(new Uint8Array(values.buffer), kernels.heapBase);
    expect(kernels.exports.countKey(kernels.heapBase, 7, key(0x3f000000))).toBe(4);
    expect(kernels.exports.countKey(kernels.heapBase, 5, 0x7f800001)).toBe(2);
  });
});
