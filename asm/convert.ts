/**
 * bf16 / f16 / f32 <-> f32 conversions, four lanes at a time, bit-exact with
 * src/safetensors/dtype.ts: widening is exact (NaN payloads kept), narrowing rounds to nearest
 * even, and a NaN narrows to the canonical quiet NaN with its sign (bf16 sign|0x7FC0,
 * f16 sign|0x7E00).
 */
import { DTYPE_BF16, DTYPE_F16 } from "./abi";

/** 2^112: moves an f16 exponent (bias 15) to the f32 bias (127); exact for normals and subnormals. */
const F16_REBIAS: f32 = 5.192296858534828e33;
/** 2^24: an f32 below 2^-14 times this is its f16 subnormal significand. */
const F16_SUBNORMAL_SCALE: f32 = 16777216.0;

/** Four f16 patterns (zero-extended u32 lanes) to f32 bit patterns. */
export function f16x4ToF32(half: v128): v128 {
  const sign = i32x4.shl(v128.and(half, i32x4.splat(0x8000)), 16);
  const magnitude = i32x4.shl(v128.and(half, i32x4.splat(0x7fff)), 13);
  // Exponent and mantissa read as an f32 are the value times 2^-112 (subnormals included).
  const finite = f32x4.mul(magnitude, f32x4.splat(F16_REBIAS));
  const special = v128.or(magnitude, i32x4.splat(0x7f800000)); // Inf / NaN, payload kept
  const isSpecial = i32x4.ge_s(magnitude, i32x4.splat(0x0f800000));
  return v128.or(v128.bitselect(special, finite, isSpecial), sign);
}

/** Four f32 bit patterns to bf16 patterns in u32 lanes. */
export function f32x4ToBf16(bits: v128): v128 {
  const abs = v128.and(bits, i32x4.splat(0x7fffffff));
  const isNaN = i32x4.gt_s(abs, i32x4.splat(0x7f800000));
  const lsb = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(1));
  const rounded = i32x4.shr_u(i32x4.add(i32x4.add(bits, i32x4.splat(0x7fff)), lsb), 16);
  const quiet = v128.or(v128.and(i32x4.shr_u(bits, 16), i32x4.splat(0x8000)), i32x4.splat(0x7fc0));
  return v128.bitselect(quiet, rounded, isNaN);
}

/** Four f32 bit patterns to f16 patterns in u32 lanes. */
export function f32x4ToF16(bits: v128): v128 {
  const sign = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(0x8000));
  const abs = v128.and(bits, i32x4.splat(0x7fffffff));
  // Normal range: rebias 127 -> 15 and round the 13 dropped bits to even.
  const lsb = v128.and(i32x4.shr_u(abs, 13), i32x4.splat(1));
  const normal = i32x4.shr_u(i32x4.add(i32x4.sub(abs, i32x4.splat(0x38000000 - 0xfff)), lsb), 13);
  // Subnormal range: |x| * 2^24 rounded to an integer, ties to even (exact scaling).
  const scaled = f32x4.nearest(f32x4.mul(abs, f32x4.splat(F16_SUBNORMAL_SCALE)));
  const subnormal = i32x4.trunc_sat_f32x4_s(scaled);
  // |x| >= 65536 overflows to Inf; NaN becomes the quiet NaN.
  const isNaN = i32x4.gt_s(abs, i32x4.splat(0x7f800000));
  const overflow = v128.bitselect(i32x4.splat(0x7e00), i32x4.splat(0x7c00), isNaN);
  const isSubnormal = i32x4.lt_s(abs, i32x4.splat(0x38800000));
  const isOverflow = i32x4.ge_s(abs, i32x4.splat(0x47800000));
  const finite = v128.bitselect(subnormal, normal, isSubnormal);
  return v128.or(v128.bitselect(overflow, finite, isOverflow), sign);
}

/** Bytes per element of a dtype code. */
export function elementBytes(dtype: i32): usize {
  return dtype == DTYPE_BF16 || dtype == DTYPE_F16 ? 2 : 4;
}

/** Decodes `count` elements (rounded up to a multiple of 4) at `src` into f32 at `dst`. */
export function decodeBlock(src: usize, dtype: i32, count: i32, dst: usize): void {
  if (dtype == DTYPE_BF16) {
    for (let i = 0; i < count; i += 4) {
      const half = v128.load16x4_u(src + ((<usize>i) << 1));
      v128.store(dst + ((<usize>i) << 2), i32x4.shl(half, 16));
    }
  } else if (dtype == DTYPE_F16) {
    for (let i = 0; i < count; i += 4) {
      const half = v128.load16x4_u(src + ((<usize>i) << 1));
      v128.store(dst + ((<usize>i) << 2), f16x4ToF32(half));
    }
  } else {
    memory.copy(dst, src, (<usize>((count + 3) & ~3)) << 2);
  }
}

/** Encodes `count` f32 values (rounded up to a multiple of 8) at `src` into `dtype` at `dst`. */
export function encodeBlock(src: usize, count: i32, dtype: i32, dst: usize): void {
  if (dtype == DTYPE_BF16) {
    for (let i = 0; i < count; i += 8) {
      const a = f32x4ToBf16(v128.load(src + ((<usize>i) << 2)));
      const b = f32x4ToBf16(v128.load(src + ((<usize>i) << 2), 16));
      v128.store(dst + ((<usize>i) << 1), i16x8.narrow_i32x4_u(a, b));
    }
  } else if (dtype == DTYPE_F16) {
    for (let i = 0; i < count; i += 8) {
      const a = f32x4ToF16(v128.load(src + ((<usize>i) << 2)));
      const b = f32x4ToF16(v128.load(src + ((<usize>i) << 2), 16));
      v128.store(dst + ((<usize>i) << 1), i16x8.narrow_i32x4_u(a, b));
    }
  } else {
    memory.copy(dst, src, (<usize>((count + 7) & ~7)) << 2);
  }
}

/** Four elements of `dtype` at element `i` of `src`, widened to f32 (as decodeBlock does). */
export function load4(src: usize, dtype: i32, i: i32): v128 {
  if (dtype == DTYPE_BF16) return i32x4.shl(v128.load16x4_u(src + ((<usize>i) << 1)), 16);
  if (dtype == DTYPE_F16) return f16x4ToF32(v128.load16x4_u(src + ((<usize>i) << 1)));
  return v128.load(src + ((<usize>i) << 2));
}

/**
 * Exported: decodes `count` elements of `dtype` at `src` to f32 at `dst`. Reads and writes up to
 * 7 elements past the end (callers pad their buffers).
 */
export function decode(src: usize, dtype: i32, count: i32, dst: usize): void {
  decodeBlock(src, dtype, count, dst);
}

/** Exported: encodes `count` f32 at `src` to `dtype` at `dst`; may write up to 7 elements past the end. */
export function encode(src: usize, count: i32, dtype: i32, dst: usize): void {
  encodeBlock(src, count, dtype, dst);
}
