/**
 * NearSwap's elementwise kernel (src/merge/methods/nearswap.ts is the specification):
 *   d = max(|f32(θ₀ − θ₁)|, floor);  (the descriptor's f32 floor: mergekit's 1e-6)  w = clamp(f32(f32(1 / d) · t), 0, 1);
 *   out = f32(f32(w·θ₁) + f32(f32(1 − w)·θ₀)).
 * wasm's f32 division is correctly rounded, as the reference's f64 division rounded once to f32 is.
 * Two NaNs never meet in an operation: a NaN weight gives the canonical NaN (0x7FC00000), and a
 * lone NaN operand comes out quieted whatever the operand order.
 */
import {
  BLOCK,
  H_BASE_DTYPE,
  H_BASE_PTR,
  H_FLOOR,
  H_NEARSWAP_T,
  H_OUT_DTYPE,
  H_OUT_PTR,
  M_DTYPE,
  M_PTR,
} from "./abi";
import { elementBytes, encodeBlock, load4 } from "./convert";
import { modelWord, word, wordF32 } from "./descriptor";

/** The quiet NaN 0x7FC00000. */
const CANONICAL_NAN: i32 = 0x7fc00000;

/** The four outputs of one quad of base values `a` and other-model values `b`. */
function nearswapQuad(a: v128, b: v128, t: v128, floor: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const distance = f32x4.abs(f32x4.sub(a, b));
  const d = v128.bitselect(floor, distance, f32x4.lt(distance, floor)); // NaN stays
  let w = f32x4.mul(t, f32x4.div(one, d));
  w = v128.bitselect(zero, w, f32x4.lt(w, zero));
  w = v128.bitselect(one, w, f32x4.gt(w, one));
  const taken = f32x4.mul(b, w);
  const kept = f32x4.mul(a, f32x4.sub(one, w));
  // A NaN weight gives the canonical NaN (see nearswap.ts): no two NaNs meet below it.
  return v128.bitselect(i32x4.splat(CANONICAL_NAN), f32x4.add(kept, taken), f32x4.ne(w, w));
}

/**
 * Exported: merges elements [from, to) of the window (shifted by `shift`, as mergeChunk) into the
 * output region, through scratch array 3. The last block may read and write a few elements past
 * `to` (regions are padded).
 */
export function nearswapChunk(desc: usize, shift: usize, from: i32, to: i32, scratch: usize): void {
  const baseDtype = <i32>word(desc, H_BASE_DTYPE);
  const modelDtype = <i32>modelWord(desc, 0, M_DTYPE);
  const outDtype = <i32>word(desc, H_OUT_DTYPE);
  const t = f32x4.splat(wordF32(desc, H_NEARSWAP_T));
  const floor = f32x4.splat(wordF32(desc, H_FLOOR));
  const mixed = scratch + 3 * ((<usize>BLOCK) << 2);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    const base = <usize>word(desc, H_BASE_PTR) + shift + <usize>start * elementBytes(baseDtype);
    const other = <usize>modelWord(desc, 0, M_PTR) + shift + <usize>start * elementBytes(modelDtype);
    for (let i = 0; i < count; i += 4) {
      const quad = nearswapQuad(load4(base, baseDtype, i), load4(other, modelDtype, i), t, floor);
      v128.store(mixed + ((<usize>i) << 2), quad);
    }
    const out = <usize>word(desc, H_OUT_PTR) + shift + <usize>start * elementBytes(outDtype);
    encodeBlock(mixed, count, outDtype, out);
  }
}
