/**
 * Philox4x32-10 (src/merge/rng/philox.ts is the specification, docs/rng.md the prose), four
 * counters at a time: lane j of each vector belongs to block `first + j`, so one call yields the
 * 24-bit uniforms of 16 consecutive elements.
 */

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** High halves of the four 64-bit products a[j]·m (m splatted). */
function mulhi(a: v128, m: v128): v128 {
  const low = i64x2.extmul_low_i32x4_u(a, m);
  const high = i64x2.extmul_high_i32x4_u(a, m);
  return i32x4.shuffle(low, high, 1, 3, 5, 7);
}

/**
 * Writes the 16 u24 uniforms of elements [4·first, 4·first + 16) of stream (s0, s1) under key
 * (k0, k1) to `out` (16 u32). `first` is the Philox block index (element index / 4), a multiple of 4.
 */
export function philoxUniforms16(first: u64, k0: u32, k1: u32, s0: u32, s1: u32, out: usize): void {
  // `first` is a multiple of 4, so the four blocks never straddle a multiple of 2^32.
  const c0Start = i32x4.splat(<i32>(<u32>first));
  let c0 = i32x4.add(c0Start, i32x4(0, 1, 2, 3));
  let c1 = i32x4.splat(<i32>(<u32>(first >> 32)));
  let c2 = i32x4.splat(<i32>s0);
  let c3 = i32x4.splat(<i32>s1);
  let key0 = i32x4.splat(<i32>k0);
  let key1 = i32x4.splat(<i32>k1);
  const m0 = i32x4.splat(<i32>M0);
  const m1 = i32x4.splat(<i32>M1);
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      key0 = i32x4.add(key0, i32x4.splat(<i32>W0));
      key1 = i32x4.add(key1, i32x4.splat(<i32>W1));
    }
    const hi0 = mulhi(c0, m0);
    const lo0 = i32x4.mul(c0, m0);
    const hi1 = mulhi(c2, m1);
    const lo1 = i32x4.mul(c2, m1);
    c0 = v128.xor(v128.xor(hi1, c1), key0);
    c1 = lo1;
    c2 = v128.xor(v128.xor(hi0, c3), key1);
    c3 = lo0;
  }
  // Transpose so that each vector holds the four words of one block, in element order.
  const t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t0, t1, 0, 1, 4, 5), 8));
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t0, t1, 2, 3, 6, 7), 8), 16);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t2, t3, 0, 1, 4, 5), 8), 32);
  v128.store(out, i32x4.shr_u(i32x4.shuffle(t2, t3, 2, 3, 6, 7), 8), 48);
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
 * multiple of 16 (an f64 holding an integer below 2^53). Writes whole groups of 16.
 */
export function uniforms24(start: f64, k0: u32, k1: u32, s0: u32, s1: u32, count: i32, out: usize): void {
  const first = <u64>start >> 2;
  for (let i = 0; i < count; i += 16) {
    philoxUniforms16(first + (<u64>i >> 2), k0, k1, s0, s1, out + (<usize>i << 2));
  }
}
