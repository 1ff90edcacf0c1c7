import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fillUniform24 } from "../../../../src/merge/rng/philox.js";
import { dareStream } from "../../../../src/merge/rng/dare-stream.js";
import { localKernels } from "../../../support/wasm-kernels.js";

function wasmPhilox(counter: number[], key: number[]): number[] {
  const kernels = localKernels();
  const at = kernels.heapBase;
  const words = new Uint32Array(kernels.reserve(64).buffer);
  words.set([...counter, ...key], at / 4);
  kernels.exports.philoxBlock(at, at + 16, at + 32);
  return Array.from(words.subarray(at / 4 + 8, at / 4 + 12));
}

function wasmUniforms(
  start: number,
  key: readonly number[],
  stream: readonly number[],
  count: number,
): number[] {
  const kernels = localKernels();
  const at = kernels.heapBase;
  const words = new Uint32Array(kernels.reserve(count * 4 + 128).buffer);
  kernels.exports.uniforms24(start, key[0]!, key[1]!, stream[0]!, stream[1]!, count, at);
  return Array.from(words.subarray(at / 4, at / 4 + count));
}

function referenceUniforms(
  start: number,
  key: readonly number[],
  stream: readonly number[],
  count: number,
): number[] {
  const out = new Uint32Array(count);
  fillUniform24(out, start, key, stream);
  return Array.from(out);
}

describe("wasm Philox4x32-10", () => {
  // Random123 kat_vectors (docs/rng.md).
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
    expect(wasmPhilox(counter, key)).toEqual(expected);
  });

  it("gives docs/rng.md's test vectors for the DARE stream", () => {
    const { key, stream } = dareStream(
      0x0123456789abcdefn,
      "org/math-ft",
      "model.layers.0.mlp.down_proj.weight",
    );
    expect(wasmUniforms(0, key, stream, 32).slice(0, 8)).toEqual([
      0x37e880, 0xbd8c0b, 0x6bc64f, 0xf2dd8e, 0x5fcd30, 0x7e36ab, 0xa6cd7e, 0xe8491b,
    ]);
    expect(wasmUniforms(2 ** 34, key, stream, 32).slice(1, 4)).toEqual([0xe5da48, 0x999948, 0xa0162c]);
  });

  it("equals the reference stream at any group-aligned start, including past 2^32 blocks", () => {
    const start = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 20 }),
      fc.integer({ min: 2 ** 34 - 2 ** 10, max: 2 ** 34 + 2 ** 10 }),
      fc.integer({ min: 0, max: 2 ** 48 }),
    );
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(start, fc.tuple(u32, u32), fc.tuple(u32, u32), (raw, key, stream) => {
        const aligned = raw - (raw % 16);
        expect(wasmUniforms(aligned, key, stream, 64)).toEqual(referenceUniforms(aligned, key, stream, 64));
      }),
      { numRuns: 200 },
    );
  });
});
