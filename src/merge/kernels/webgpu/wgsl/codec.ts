/**
 * dtype conversions in WGSL integer operations, bit-exact with src/safetensors/dtype.ts:
 * widening is exact (NaN payloads kept), narrowing rounds to nearest even, a NaN narrows to the
 * canonical quiet NaN with its sign (bf16 sign|0x7FC0, f16 sign|0x7E00). No shader-f16 needed.
 */
import { DTYPE_CODE } from "../descriptor.js";

export const CODEC_WGSL = /* wgsl */ `
const DT_F32: u32 = ${DTYPE_CODE.F32}u;
const DT_F16: u32 = ${DTYPE_CODE.F16}u;
const DT_BF16: u32 = ${DTYPE_CODE.BF16}u;

fn f16_to_f32(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let exponent = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (exponent == 0x1fu) { return sign | 0x7f800000u | (mantissa << 13u); }
  if (exponent != 0u) { return sign | ((exponent + 112u) << 23u) | (mantissa << 13u); }
  if (mantissa == 0u) { return sign; }
  let leading = countLeadingZeros(mantissa) - 21u;
  let normalised = (mantissa << leading) & 0x3ffu;
  return sign | ((113u - leading) << 23u) | (normalised << 13u);
}

fn f32_to_bf16(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return ((bits >> 16u) & 0x8000u) | 0x7fc0u; }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn f32_to_f16(bits: u32) -> u32 {
  let sign = (bits >> 16u) & 0x8000u;
  let abs = bits & 0x7fffffffu;
  if (abs >= 0x38800000u) {
    if (abs >= 0x47800000u) { return sign | select(0x7c00u, 0x7e00u, abs > 0x7f800000u); }
    return sign | ((abs - 0x38000000u + 0xfffu + ((abs >> 13u) & 1u)) >> 13u);
  }
  if (abs <= 0x33000000u) { return sign; }
  let shift = 126u - (abs >> 23u);
  let significand = (abs & 0x7fffffu) | 0x800000u;
  let half = 1u << (shift - 1u);
  let rest = significand & ((half << 1u) - 1u);
  var units = significand >> shift;
  if (rest > half || (rest == half && (units & 1u) == 1u)) { units = units + 1u; }
  return sign | units;
}

/** Two 16-bit patterns (low half first) to f32 bits. */
fn widen_pair(word: u32, dtype: u32) -> vec2<u32> {
  if (dtype == DT_BF16) { return vec2<u32>(word << 16u, word & 0xffff0000u); }
  return vec2<u32>(f16_to_f32(word & 0xffffu), f16_to_f32(word >> 16u));
}

fn narrow(bits: u32, dtype: u32) -> u32 {
  if (dtype == DT_BF16) { return f32_to_bf16(bits); }
  return f32_to_f16(bits);
}
`;
