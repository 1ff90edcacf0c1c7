/**
 * Philox4x32-10, the counter-based generator of Random123 (Salmon et al., SC'11). A block of four
 * 32-bit words is a pure function of a 128-bit counter and a 64-bit key, so any element of a
 * random stream can be computed without the ones before it: masks come out identical for any
 * chunking, thread count or device.
 *
 * One round maps (c0, c1, c2, c3) with key (k0, k1) to
 *   (hi(M1·c2) ^ c1 ^ k0, lo(M1·c2), hi(M0·c0) ^ c3 ^ k1, lo(M0·c0))
 * where hi/lo are the halves of the 64-bit product; between rounds the key is bumped by the Weyl
 * constants (k0 += W0, k1 += W1, mod 2^32). Ten rounds, nine bumps.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const ROUNDS = 10;

/** High 32 bits of the 64-bit product of two u32, from 16-bit limbs (every partial product < 2^32). */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lowLow = a0 * b0;
  const lowHigh = a0 * b1;
  const highLow = a1 * b0;
  const carry = ((lowLow >>> 16) + (lowHigh & 0xffff) + (highLow & 0xffff)) >>> 16;
  return (a1 * b1 + (lowHigh >>> 16) + (highLow >>> 16) + carry) >>> 0;
}

/**
 * One Philox4x32-10 block: `out` = philox(counter, key). `counter` holds 4 words, `key` 2, all
 * u32. `out` may alias `counter`.
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  philoxBlock(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, out);
}

function philoxBlock(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const TWO_POW_32 = 4294967296;

/**
 * Fills `out[j]` with the 24-bit uniform of element `start + j` of the stream (key, stream):
 * block b = floor(i / 4), counter = (b mod 2^32, floor(b / 2^32), stream[0], stream[1]),
 * word = philox(counter, key)[i mod 4], value = word >>> 8.
 * `start` is any integer in [0, 2^53); the result does not depend on how a range is split.
 */
export function fillUniform24(
  out: Uint32Array,
  start: number,
  key: ArrayLike<number>,
  stream: ArrayLike<number>,
): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`fillUniform24: start must be a non-negative safe integer, got ${start}`);
  }
  const k0 = key[0]!;
  const k1 = key[1]!;
  const s0 = stream[0]!;
  const s1 = stream[1]!;
  const words = new Uint32Array(4);
  let block = Math.floor(start / 4);
  let lane = start % 4;
  let j = 0;
  while (j < out.length) {
    philoxBlock(block % TWO_POW_32, Math.floor(block / TWO_POW_32), s0, s1, k0, k1, words);
    for (; lane < 4 && j < out.length; lane++, j++) out[j] = words[lane]! >>> 8;
    lane = 0;
    block++;
  }
}
