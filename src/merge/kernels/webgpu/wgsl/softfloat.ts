/**
 * f32 arithmetic in WGSL integer operations ("soft float"), bit-exact with the TypeScript
 * reference on x86-64 (V8), which is the specification:
 *
 * - +, −, ×, ÷ are IEEE 754 binary32 with round-to-nearest-even, subnormals kept (no flush to
 *   zero) and no fused multiply-add: WGSL itself allows 2.5 ulp division, contraction into FMA,
 *   subnormal flushing and any NaN, so no WGSL float operation is used at all;
 * - NaN results are the ones V8 computes on x86-64: a NaN operand comes out quieted (bit 22 set)
 *   with its sign and payload; when both operands are NaN, `a + b` and `a * b` return b's,
 *   `a − b` and `a / b` return a's; an invalid operation (∞ − ∞, 0 · ∞, 0 / 0, ∞ / ∞) gives the
 *   x86 default NaN 0xFFC00000.
 *
 * Values are u32 bit patterns. A finite non-zero value unpacks to sig · 2^(e − 150) with
 * sig in [2^23, 2^24) (subnormals are normalised, so e may be ≤ 0); round_pack takes
 * sig · 2^(e − 157) with sig in [2^30, 2^31), whose 7 low bits are round bits (bit 0 sticky).
 */
export const SOFTFLOAT_WGSL = /* wgsl */ `
const SIGN_BIT: u32 = 0x80000000u;
const ABS_MASK: u32 = 0x7fffffffu;
const INF_BITS: u32 = 0x7f800000u;
const QUIET_BIT: u32 = 0x00400000u;
const DEFAULT_NAN: u32 = 0xffc00000u;

fn is_nan(x: u32) -> bool { return (x & ABS_MASK) > INF_BITS; }

struct Unpacked { e: i32, sig: u32 }

fn unpack(x: u32) -> Unpacked {
  let field = i32((x >> 23u) & 0xffu);
  let m = x & 0x7fffffu;
  if (field == 0) {
    let s = countLeadingZeros(m) - 8u;
    return Unpacked(1 - i32(s), m << s);
  }
  return Unpacked(field, m | 0x800000u);
}

/** x >> n, with any bit shifted out OR-ed into bit 0. */
fn shift_right_jam(x: u32, n: u32) -> u32 {
  if (n == 0u) { return x; }
  if (n >= 32u) { return select(0u, 1u, x != 0u); }
  return (x >> n) | select(0u, 1u, (x << (32u - n)) != 0u);
}

fn round_pack(sign: u32, e_in: i32, sig_in: u32) -> u32 {
  var e = e_in;
  var sig = sig_in;
  if (e >= 255) { return sign | INF_BITS; }
  if (e <= 0) {
    sig = shift_right_jam(sig, u32(1 - e));
    e = 1;
  }
  var rounded = (sig + 0x40u) >> 7u;
  if ((sig & 0x7fu) == 0x40u) { rounded = rounded & ~1u; }
  // The significand's leading bit lands in the exponent field: a carry moves to the next binade.
  let magnitude = (u32(e - 1) << 23u) + rounded;
  if (magnitude >= INF_BITS) { return sign | INF_BITS; }
  return sign | magnitude;
}

/** High 32 bits of the 64-bit product, from 16-bit limbs. */
fn mulhi32(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let low_low = a0 * b0;
  let low_high = a0 * b1;
  let high_low = a1 * b0;
  let carry = ((low_low >> 16u) + (low_high & 0xffffu) + (high_low & 0xffffu)) >> 16u;
  return a1 * b1 + (low_high >> 16u) + (high_low >> 16u) + carry;
}

fn f32_add(a: u32, b: u32) -> u32 {
  if (is_nan(a) || is_nan(b)) { return select(a, b, is_nan(b)) | QUIET_BIT; }
  let a_abs = a & ABS_MASK;
  let b_abs = b & ABS_MASK;
  let opposite = ((a ^ b) & SIGN_BIT) != 0u;
  if (a_abs == INF_BITS || b_abs == INF_BITS) {
    if (a_abs == b_abs && opposite) { return DEFAULT_NAN; }
    return select(b, a, a_abs == INF_BITS);
  }
  if (a_abs == 0u) {
    if (b_abs == 0u) { return a & b; }
    return b;
  }
  if (b_abs == 0u) { return a; }
  if (a_abs == b_abs && opposite) { return 0u; }
  var big = a;
  var small = b;
  if (b_abs > a_abs) {
    big = b;
    small = a;
  }
  let ub = unpack(big);
  let us = unpack(small);
  let aligned = shift_right_jam(us.sig << 6u, u32(ub.e - us.e));
  var sum = (ub.sig << 6u) + aligned;
  if (opposite) { sum = (ub.sig << 6u) - aligned; }
  let shift = countLeadingZeros(sum) - 1u;
  return round_pack(big & SIGN_BIT, ub.e + 1 - i32(shift), sum << shift);
}

fn f32_sub(a: u32, b: u32) -> u32 {
  if (is_nan(a) || is_nan(b)) { return select(b, a, is_nan(a)) | QUIET_BIT; }
  return f32_add(a, b ^ SIGN_BIT);
}

fn f32_mul(a: u32, b: u32) -> u32 {
  if (is_nan(a) || is_nan(b)) { return select(a, b, is_nan(b)) | QUIET_BIT; }
  let sign = (a ^ b) & SIGN_BIT;
  let a_abs = a & ABS_MASK;
  let b_abs = b & ABS_MASK;
  if (a_abs == INF_BITS || b_abs == INF_BITS) {
    if (a_abs == 0u || b_abs == 0u) { return DEFAULT_NAN; }
    return sign | INF_BITS;
  }
  if (a_abs == 0u || b_abs == 0u) { return sign; }
  let ua = unpack(a);
  let ub = unpack(b);
  let lo = ua.sig * ub.sig;
  let hi = mulhi32(ua.sig, ub.sig);
  // The product is in [2^46, 2^48): keep 31 bits with the leading one at bit 30, jam the rest.
  if (hi >= 0x8000u) {
    let sig = (hi << 15u) | (lo >> 17u) | select(0u, 1u, (lo & 0x1ffffu) != 0u);
    return round_pack(sign, ua.e + ub.e - 126, sig);
  }
  let sig = (hi << 16u) | (lo >> 16u) | select(0u, 1u, (lo & 0xffffu) != 0u);
  return round_pack(sign, ua.e + ub.e - 127, sig);
}

fn f32_div(a: u32, b: u32) -> u32 {
  if (is_nan(a) || is_nan(b)) { return select(b, a, is_nan(a)) | QUIET_BIT; }
  let sign = (a ^ b) & SIGN_BIT;
  let a_abs = a & ABS_MASK;
  let b_abs = b & ABS_MASK;
  if (a_abs == INF_BITS) { return select(sign | INF_BITS, DEFAULT_NAN, b_abs == INF_BITS); }
  if (b_abs == INF_BITS) { return sign; }
  if (b_abs == 0u) { return select(sign | INF_BITS, DEFAULT_NAN, a_abs == 0u); }
  if (a_abs == 0u) { return sign; }
  let ua = unpack(a);
  let ub = unpack(b);
  var rem = ua.sig;
  var e = ua.e - ub.e + 127;
  if (rem < ub.sig) {
    rem = rem << 1u;
    e = e - 1;
  }
  // Restoring division: 26 quotient bits (24 + 2 guard bits), the remainder is the sticky bit.
  var q = 0u;
  for (var i = 0u; i < 26u; i = i + 1u) {
    q = q << 1u;
    if (rem >= ub.sig) {
      rem = rem - ub.sig;
      q = q | 1u;
    }
    rem = rem << 1u;
  }
  return round_pack(sign, e, (q << 5u) | select(0u, 1u, rem != 0u));
}
`;
