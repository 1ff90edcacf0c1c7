/**
 * safetensors dtypes and the float conversions the merge engine relies on.
 *
 * Rounding contract (see docs/safetensors.md): f32 → bf16/f16 is IEEE round-to-nearest-even,
 * bit-exact with PyTorch's `.to(torch.bfloat16)` / `.to(torch.float16)` for every non-NaN value
 * (±Inf, −0, f16 subnormals and overflow to Inf included). A NaN becomes the canonical quiet NaN
 * with its sign kept: bf16 `sign|0x7FC0`, f16 `sign|0x7E00`. Widening (bf16/f16 → f32) is exact
 * and keeps NaN payloads.
 */
import { Buffer } from "node:buffer";
import { HubmergeError } from "../errors.js";

export type DType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL"
  | "F8_E4M3"
  | "F8_E5M2";

/** The dtypes a merge can write. */
export type FloatDType = "F32" | "F16" | "BF16";

export const DTYPE_SIZE: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DTYPE_SIZE, value);
}

export function isFloatDType(value: unknown): value is FloatDType {
  return value === "F32" || value === "F16" || value === "BF16";
}

/** Whether decodeToF32 accepts the dtype (F64 is narrowed to f32 with round-to-nearest-even). */
export function isDecodableDType(dtype: DType): boolean {
  return isFloatDType(dtype) || dtype === "F64";
}

const BF16_QUIET_NAN = 0x7fc0;
const F16_QUIET_NAN = 0x7e00;

// One f32 slot seen as bits, for the scalar helpers (no allocation per call).
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** f32 bits → bf16 bits, round-to-nearest-even; NaN → sign|0x7FC0. */
function bf16FromBits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0x8000) | BF16_QUIET_NAN;
  // Adding 0x7FFF plus the kept lsb rounds ties to even; a carry into the exponent is the
  // correct result (up to Inf). Cannot overflow 32 bits since NaNs took the branch above.
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 bits → f16 bits, IEEE round-to-nearest-even with subnormals; NaN → sign|0x7E00. */
function f16FromBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs >= 0x38800000) {
    // |x| >= 2^-14: normal f16, or Inf/NaN.
    if (abs >= 0x47800000) {
      // |x| >= 65536 always overflows; NaN keeps NaN.
      return sign | (abs > 0x7f800000 ? F16_QUIET_NAN : 0x7c00);
    }
    // Rebias the exponent (127 → 15) and round the 13 dropped bits to even; ties at 65520
    // carry into the exponent and give Inf, as IEEE says.
    return sign | ((abs - 0x38000000 + 0xfff + ((abs >>> 13) & 1)) >>> 13);
  }
  if (abs <= 0x33000000) return sign; // |x| <= 2^-25 rounds to ±0 (2^-25 itself ties to even 0)
  // Subnormal f16: the result is |x| / 2^-24 rounded to an integer, ties to even.
  const exponent = abs >>> 23;
  const significand = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - exponent; // 14..24
  const half = 1 << (shift - 1);
  const rest = significand & ((half << 1) - 1);
  let units = significand >>> shift;
  if (rest > half || (rest === half && (units & 1) === 1)) units += 1;
  return sign | units;
}

/** bf16 bits → f32 bits (exact). */
function bf16ToBits(half: number): number {
  return (half << 16) >>> 0;
}

/** f16 bits → f32 bits (exact; NaN payloads kept). */
function f16ToBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal: normalise the mantissa into an f32 normal number.
  const leading = Math.clz32(mantissa) - 21; // shifts that bring the top bit to bit 10
  const normalised = (mantissa << leading) & 0x3ff;
  return (sign | ((113 - leading) << 23) | (normalised << 13)) >>> 0;
}

// Every f16 pattern's f32 bits: decoding becomes one table lookup per element.
const F16_TO_F32_BITS = (() => {
  const table = new Uint32Array(65536);
  for (let half = 0; half < 65536; half++) table[half] = f16ToBits(half);
  return table;
})();

/** Rounds x to f32 first (as the f32 pipeline does), then to bf16 bits. */
export function f32ToBf16Bits(x: number): number {
  scratchF32[0] = x;
  return bf16FromBits(scratchU32[0]!);
}

export function bf16BitsToF32(bits: number): number {
  scratchU32[0] = bf16ToBits(bits & 0xffff);
  return scratchF32[0]!;
}

/** Rounds x to f32 first (as the f32 pipeline does), then to f16 bits. */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  return f16FromBits(scratchU32[0]!);
}

export function f16BitsToF32(bits: number): number {
  scratchU32[0] = F16_TO_F32_BITS[bits & 0xffff]!;
  return scratchF32[0]!;
}

/**
 * Decodes a float tensor's little-endian bytes to f32. Always returns a fresh array that shares
 * no memory with `bytes`, so callers may modify it.
 */
export function decodeToF32(bytes: Uint8Array, dtype: DType): Float32Array {
  if (!isDecodableDType(dtype)) {
    throw new HubmergeError("E_SAFETENSORS", `cannot decode a ${dtype} tensor: merge needs float tensors`, {
      hint: "merge only float tensors (F32, F16, BF16, F64); copy others with passthrough",
    });
  }
  const size = DTYPE_SIZE[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new HubmergeError(
      "E_SAFETENSORS",
      `${bytes.byteLength} bytes are not a whole number of ${dtype} elements (${size} bytes each)`,
    );
  }
  const input = littleEndianAligned(bytes, size);
  const count = bytes.byteLength / size;
  const outBytes = uninitializedBytes(count * 4);
  const out = new Float32Array(outBytes.buffer, outBytes.byteOffset, count);
  const outBits = new Uint32Array(outBytes.buffer, outBytes.byteOffset, count);
  if (dtype === "BF16") {
    const halves = new Uint16Array(input.buffer, input.byteOffset, count);
    const outInts = new Int32Array(outBytes.buffer, outBytes.byteOffset, count); // `<<` yields int32
    for (let i = 0; i < count; i++) outInts[i] = halves[i]! << 16;
  } else if (dtype === "F16") {
    const halves = new Uint16Array(input.buffer, input.byteOffset, count);
    for (let i = 0; i < count; i++) outBits[i] = F16_TO_F32_BITS[halves[i]!]!;
  } else if (dtype === "F32") {
    outBits.set(new Uint32Array(input.buffer, input.byteOffset, count));
  } else {
    out.set(new Float64Array(input.buffer, input.byteOffset, count)); // rounds to nearest even
  }
  return out;
}

/** Encodes f32 values to little-endian bytes of a float dtype, rounding to nearest even. */
export function encodeFromF32(values: Float32Array, dtype: FloatDType): Uint8Array {
  const count = values.length;
  const inBits = new Int32Array(values.buffer, values.byteOffset, count);
  const out = uninitializedBytes(count * DTYPE_SIZE[dtype]);
  if (dtype === "F32") {
    new Int32Array(out.buffer, out.byteOffset, count).set(inBits);
  } else {
    // Two 16-bit results per 32-bit store: measured ~1.5× faster than a store per element.
    const pairs = new Uint32Array(out.buffer, out.byteOffset, count >>> 1);
    const last = count - 1;
    if (dtype === "BF16") {
      for (let i = 0, j = 0; i < pairs.length; i++, j += 2) {
        pairs[i] = bf16FromBits(inBits[j]!) | (bf16FromBits(inBits[j + 1]!) << 16);
      }
      if (count % 2 === 1) {
        new Uint16Array(out.buffer, out.byteOffset, count)[last] = bf16FromBits(inBits[last]!);
      }
    } else {
      for (let i = 0, j = 0; i < pairs.length; i++, j += 2) {
        pairs[i] = f16FromBits(inBits[j]!) | (f16FromBits(inBits[j + 1]!) << 16);
      }
      if (count % 2 === 1) {
        new Uint16Array(out.buffer, out.byteOffset, count)[last] = f16FromBits(inBits[last]!);
      }
    }
  }
  if (!HOST_IS_LITTLE_ENDIAN) swapBytesInPlace(out, DTYPE_SIZE[dtype]);
  return out;
}

/** A fresh, unshared, 8-byte-aligned buffer whose bytes are all about to be overwritten. */
function uninitializedBytes(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length); // skips zero-filling; never from the shared pool
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/**
 * Bytes whose offset suits a typed-array view of `size`-byte elements, in host byte order:
 * copies when the offset is unaligned or the host is big-endian.
 */
function littleEndianAligned(bytes: Uint8Array, size: number): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % size === 0) return bytes;
  const copy = bytes.slice();
  if (!HOST_IS_LITTLE_ENDIAN) swapBytesInPlace(copy, size);
  return copy;
}

/** Reverses the byte order of each `size`-byte element (for big-endian hosts). */
export function swapBytesInPlace(bytes: Uint8Array, size: number): void {
  for (let start = 0; start + size <= bytes.length; start += size) {
    for (let low = start, high = start + size - 1; low < high; low++, high--) {
      const byte = bytes[low]!;
      bytes[low] = bytes[high]!;
      bytes[high] = byte;
    }
  }
}
