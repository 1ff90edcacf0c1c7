/**
 * Exact magnitude selection (src/merge/kernels/reference/magnitude-select.ts is the
 * specification): the order key of |x| is the f32 bit pattern with the sign cleared, every NaN mapped to one key
 * above +Inf. A radix select counts keys in two 16-bit histogram passes; chunks of a tensor add
 * their counts, so the same threshold comes out for any split.
 */

export const NAN_KEY: u32 = 0x7f800001;

/** Order keys of four f32 lanes. */
export function magnitudeKeys(values: v128): v128 {
  return i32x4.min_u(v128.and(values, i32x4.splat(0x7fffffff)), i32x4.splat(<i32>NAN_KEY));
}

export function magnitudeKey(bits: u32): u32 {
  const key = bits & 0x7fffffff;
  return key > 0x7f800000 ? NAN_KEY : key;
}

/** Adds the high 15 bits of the keys of `count` f32 at `values` to `hist` (32768 u32). */
export function histogramHigh(values: usize, count: i32, hist: usize): void {
  for (let i = 0; i < count; i++) {
    const slot = hist + ((<usize>(magnitudeKey(load<u32>(values + ((<usize>i) << 2))) >>> 16)) << 2);
    store<u32>(slot, load<u32>(slot) + 1);
  }
}

/** Adds the low 16 bits of the keys whose high bits are `bucket` to `hist` (65536 u32). */
export function histogramLow(values: usize, count: i32, bucket: u32, hist: usize): void {
  for (let i = 0; i < count; i++) {
    const key = magnitudeKey(load<u32>(values + ((<usize>i) << 2)));
    if (key >>> 16 != bucket) continue;
    const slot = hist + ((<usize>(key & 0xffff)) << 2);
    store<u32>(slot, load<u32>(slot) + 1);
  }
}

/** How many of `count` f32 at `values` have order key `key`. */
export function countKey(values: usize, count: i32, key: u32): u32 {
  let found: u32 = 0;
  let i = 0;
  const wanted = i32x4.splat(<i32>key);
  let lanes = i32x4.splat(0);
  for (; i + 4 <= count; i += 4) {
    const keys = magnitudeKeys(v128.load(values + ((<usize>i) << 2)));
    lanes = i32x4.sub(lanes, i32x4.eq(keys, wanted));
  }
  found = <u32>(i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1));
  found += <u32>(i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3));
  for (; i < count; i++) if (magnitudeKey(load<u32>(values + ((<usize>i) << 2))) == key) found++;
  return found;
}

/**
 * Resolves the lanes whose key equals a cut key: the first `take` such elements of the tensor, in
 * index order, are in. `counter` holds how many were seen before (updated). Returns lane bits.
 */
export function takeEqualLanes(equalBits: i32, counter: usize, take: u32): i32 {
  let inBits = 0;
  let seen = load<u32>(counter);
  for (let lane = 0; lane < 4; lane++) {
    if (((equalBits >> lane) & 1) == 0) continue;
    if (seen < take) inBits |= 1 << lane;
    seen++;
  }
  store<u32>(counter, seen);
  return inBits;
}

export function laneMask(bits: i32): v128 {
  let mask = i32x4.splat(0);
  mask = i32x4.replace_lane(mask, 0, -(bits & 1));
  mask = i32x4.replace_lane(mask, 1, -((bits >> 1) & 1));
  mask = i32x4.replace_lane(mask, 2, -((bits >> 2) & 1));
  mask = i32x4.replace_lane(mask, 3, -((bits >> 3) & 1));
  return mask;
}
