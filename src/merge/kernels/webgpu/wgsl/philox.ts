/**
 * Philox4x32-10 in WGSL (src/merge/rng/philox.ts and docs/rng.md are the specification). The
 * 64-bit products use mulhi32 from the soft-float library (16-bit limbs).
 */
export const PHILOX_WGSL = /* wgsl */ `
/** The four 24-bit uniforms of Philox block (block_lo, block_hi) of stream (s0, s1), key (k0, k1). */
fn uniforms24(block_lo: u32, block_hi: u32, s0: u32, s1: u32, key0: u32, key1: u32) -> vec4<u32> {
  var c = vec4<u32>(block_lo, block_hi, s0, s1);
  var k0 = key0;
  var k1 = key1;
  for (var round = 0u; round < 10u; round = round + 1u) {
    if (round > 0u) {
      k0 = k0 + 0x9e3779b9u;
      k1 = k1 + 0xbb67ae85u;
    }
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
  }
  return c >> vec4<u32>(8u);
}
`;
