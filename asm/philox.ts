/**
 * Philox4x32-10 (src/merge/rng/philox.ts is the specification, docs/rng.md the prose), four
 * counters per vector: lane j belongs to block `first + j`, so four vectors of state yield the
 * 24-bit uniforms of 16 consecutive elements.
 */

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** Low halves (product & 0xffffffff) of the four 64-bit products a[j]·m, from its two halves. */
function productLow(low: v128, high: v128): v128 {
  return i32x4.shuffle(low, high, 0, 2, 4, 6);
}

/** High halves (product >> 32) of the four 64-bit products. */
function productHigh(low: v128, high: v128): v128 {
  return i32x4.shuffle(low, high, 1, 3, 5, 7);
}

/** Writes the u24 uniforms (word >>> 8) of four blocks, in element order, to `out` (16 u32). */
function storeUniforms(c0: v128, c1: v128, c2: v128, c3: v128, out: usize): void {
  // Transpose: lane j of c0..c3 are the four words of block j.
  const t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t0, t1, 0, 1, 4, 5), 8));
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t0, t1, 2, 3, 6, 7), 8), 16);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t2, t3, 0, 1, 4, 5), 8), 32);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t2, t3, 2, 3, 6, 7), 8), 48);
}

/**
 * Writes the 32 u24 uniforms of elements [4·first, 4·first + 32) of stream (s0, s1) under key
 * (k0, k1) to `out` (32 u32). `first` is the Philox block index (element index / 4), a multiple
 * of 4, so no group of four blocks straddles a multiple of 2^32 (counter word 1 is one value).
 * Two groups of four blocks go through the rounds together: independent work that keeps the
 * multipliers busy while each group waits for its previous round.
 */
export function philoxUniforms32(first: u64, k0: u32, k1: u32, s0: u32, s1: u32, out: usize): void {
  const lanes = i32x4(0, 1, 2, 3);
  let a0 = i32x4.add(i32x4.splat(<i32>(<u32>first)), lanes);
  let a1 = i32x4.splat(<i32>(<u32>(first >> 32)));
  let b0 = i32x4.add(i32x4.splat(<i32>(<u32>(first + 4))), lanes);
  let b1 = i32x4.splat(<i32>(<u32>((first + 4) >> 32)));
  let a2 = i32x4.splat(<i32>s0);
  let a3 = i32x4.splat(<i32>s1);
  let b2 = a2;
  let b3 = a3;
  let key0 = i32x4.splat(<i32>k0);
  let key1 = i32x4.splat(<i32>k1);
  const m0 = i32x4.splat(<i32>M0);
  const m1 = i32x4.splat(<i32>M1);
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      key0 = i32x4.add(key0, i32x4.splat(<i32>W0));
      key1 = i32x4.add(key1, i32x4.splat(<i32>W1));
    }
    const pa0l = i64x2.extmul_low_i32x4_u(a0, m0);
    const pa0h = i64x2.extmul_high_i32x4_u(a0, m0);
    const pa2l = i64x2.extmul_low_i32x4_u(a2, m1);
    const pa2h = i64x2.extmul_high_i32x4_u(a2, m1);
    const pb0l = i64x2.extmul_low_i32x4_u(b0, m0);
    const pb0h = i64x2.extmul_high_i32x4_u(b0, m0);
    const pb2l = i64x2.extmul_low_i32x4_u(b2, m1);
    const pb2h = i64x2.extmul_high_i32x4_u(b2, m1);
    a0 = v128.xor(v128.xor(productHigh(pa2l, pa2h), a1), key0);
    a1 = productLow(pa2l, pa2h);
    a2 = v128.xor(v128.xor(productHigh(pa0l, pa0h), a3), key1);
    a3 = productLow(pa0l, pa0h);
    b0 = v128.xor(v128.xor(productHigh(pb2l, pb2h), b1), key0);
    b1 = productLow(pb2l, pb2h);
    b2 = v128.xor(v128.xor(productHigh(pb0l, pb0h), b3), key1);
    b3 = productLow(pb0l, pb0h);
  }
  storeUniforms(a0, a1, a2, a3, out);
  storeUniforms(b0, b1, b2, b3, out + 64);
}

/** One scalar Philox4x32-10 block: reads counter (4 u32) and key (2 u32), writes 4 u32 to `out`. */
export function philoxBlock(counter: usize, key: usize, out: usize): void {
  let c0 = load<u32>(counter);
  let c1 = load<u32>(counter, 4);
  let c2 = load<u32>(counter, 8);
  let c3 = load<u32>(counter, 12);
  let k0 = load<u32>(key);
  let k1 = load<u32>(key, 4);
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += W0;
      k1 += W1;
    }
    const p0 = <u64>M0 * <u64>c0;
    const p1 = <u64>M1 * <u64>c2;
    c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
    c1 = <u32>p1;
    c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
    c3 = <u32>p0;
  }
  store<u32>(out, c0);
  store<u32>(out, c1, 4);
  store<u32>(out, c2, 8);
  store<u32>(out, c3, 12);
}

/**
 * Exported: u24 uniforms of elements [start, start + count) into `out`; `start` must be a
 * multiple of 16 (an f64 holding an integer below 2^53). Writes whole groups of 32.
 */
export function uniforms24(start: f64, k0: u32, k1: u32, s0: u32, s1: u32, count: i32, out: usize): void {
  const first = (<u64>start) >> 2;
  for (let i = 0; i < count; i += 32) {
    philoxUniforms32(first + ((<u64>i) >> 2), k0, k1, s0, s1, out + ((<usize>i) << 2));
  }
}
