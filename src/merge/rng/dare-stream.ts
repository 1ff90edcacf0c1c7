/**
 * The DARE random stream: which elements of a task vector survive, as a pure function of
 * (manifest seed, model reference, output tensor name, element index). See docs/rng.md.
 *
 * - key (k0, k1) = (seed mod 2^32, floor(seed / 2^32)) of the unsigned 64-bit seed;
 * - stream (s0, s1) = the first 8 bytes of SHA-256(UTF-8(model + "\u0000" + tensorName)) read as
 *   two little-endian u32;
 * - element i: u24 = philox4x32-10((floor(i/4) mod 2^32, floor(i/2^34), s0, s1), key)[i mod 4] >>> 8;
 * - kept with probability p iff u24 < round(p · 2^24).
 */
import { createHash } from "node:crypto";
import { HubmergeError } from "../../errors.js";
import { fillUniform24 } from "./philox.js";

export type U32Pair = readonly [number, number];

/** Everything the mask of one (model, tensor) needs besides the density. */
export interface DareStream {
  key: U32Pair;
  stream: U32Pair;
}

const U64_MAX = (1n << 64n) - 1n;
const UNIFORM_RANGE = 16777216; // 2^24
/** Elements generated per call when filling a mask (bounds the scratch buffer). */
const MASK_CHUNK = 65536;

/** Philox key from the manifest's unsigned 64-bit seed: (low word, high word). */
export function keyFor(seed: bigint): U32Pair {
  if (seed < 0n || seed > U64_MAX) {
    throw new HubmergeError("E_MERGE", `the seed ${seed} is not an unsigned 64-bit integer`, {
      hint: "Set hubmerge.seed to an integer between 0 and 18446744073709551615.",
    });
  }
  return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
}

/** Philox counter words 2 and 3 for one model's copy of one output tensor. */
export function streamFor(model: string, tensorName: string): U32Pair {
  const digest = createHash("sha256").update(`${model}\u0000${tensorName}`, "utf8").digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4)];
}

export function dareStream(seed: bigint, model: string, tensorName: string): DareStream {
  return { key: keyFor(seed), stream: streamFor(model, tensorName) };
}

/** The integer an element's u24 must be below to be kept: round(p · 2^24), in [0, 2^24]. */
export function keepThreshold(p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`keep probability must be in [0, 1], got ${p}`);
  }
  return Math.round(p * UNIFORM_RANGE);
}

/**
 * Writes the keep mask (1 kept, 0 dropped) of elements [start, start + out.length) into `out`.
 * Any split of a tensor into ranges yields the slices of the whole mask.
 */
export function fillDareMask(out: Uint8Array, start: number, source: DareStream, threshold: number): void {
  const uniforms = new Uint32Array(Math.min(MASK_CHUNK, out.length));
  for (let offset = 0; offset < out.length; offset += uniforms.length) {
    const count = Math.min(uniforms.length, out.length - offset);
    const view = count === uniforms.length ? uniforms : uniforms.subarray(0, count);
    fillUniform24(view, start + offset, source.key, source.stream);
    for (let j = 0; j < count; j++) out[offset + j] = view[j]! < threshold ? 1 : 0;
  }
}

/** Mask of elements [start, end) of the tensor `tensorName` of `model`, kept with probability `density`. */
export function dareMaskRange(
  start: number,
  end: number,
  seed: bigint,
  model: string,
  tensorName: string,
  density: number,
): Uint8Array {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end)) {
    throw new RangeError(`dareMaskRange: bad range [${start}, ${end})`);
  }
  const out = new Uint8Array(end - start);
  fillDareMask(out, start, dareStream(seed, model, tensorName), keepThreshold(density));
  return out;
}

/** Mask of a whole tensor of `length` elements. */
export function dareMask(
  length: number,
  seed: bigint,
  model: string,
  tensorName: string,
  density: number,
): Uint8Array {
  return dareMaskRange(0, length, seed, model, tensorName, density);
}
