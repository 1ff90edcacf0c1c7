/**
 * Arcee Fusion (mergekit's `merge_methods/arcee_fusion.py`; arcee.ai's mergekit v0.1 release):
 * take the other model's change only where it matters. Each element's importance is the size of
 * its change times the KL divergence between the softmax of its row in the other model and in
 * the base; elements whose importance reaches median + 1.5·IQR (the usual outlier fence) take
 * the other model's value, the rest keep the base's. Exactly one model besides the base.
 *
 * Exact definition (rows are vectors along the last axis; a 0-D or 1-D tensor is one row):
 *   δ = f32(θ₁ − θ₀);
 *   per row, in f64: p = softmax(θ₁ row) + 1e-8, q = softmax(θ₀ row) + 1e-8 (max subtracted first),
 *     KL = Σ p·ln(p/q) summed in index order from +0;  κ = f32(KL);
 *   importance[e] = f32(|δ[e]|·κ_row(e));
 *   xₖ = the k-th smallest importance (0-based, NaN largest); Qq = x_⌊q·(n−1)⌋ for q = ¼, ½, ¾;
 *   threshold = f32(Q½ + f32(1.5·f32(Q¾ − Q¼)));
 *   out[e] = f32(θ₀[e] + δ[e]) where importance[e] ≥ threshold, else θ₀[e] (its exact bits).
 * mergekit takes the quartiles of a random sample of 10⁶ elements (unseeded) when a tensor has
 * more; hubmerge always uses every element, so its threshold is exact and reproducible. mergekit
 * computes the softmax and KL in the merge dtype; hubmerge in f64, rounding κ to f32 once.
 */

import type { MergeMethod, TensorMergeContext } from "../types.js";
import { vectorViews, type VectorView } from "../kernels/reference/reductions.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { alignToBase } from "./task-family.js";

const fround = Math.fround;

/** mergekit adds this to both softmax distributions before the KL divergence. */
export const FUSION_SOFTMAX_EPSILON = 1e-8;

/** Order key of an f32 bit pattern: ascending keys are ascending values; every NaN is largest. */
function orderKey(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0xffffffff;
  return (bits & 0x80000000) !== 0 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** The k-th smallest value (0-based), by a two-pass 16-bit radix select over the order keys. */
export function kthSmallest(values: Float32Array, k: number): number {
  if (!Number.isInteger(k) || k < 0 || k >= values.length) {
    throw new RangeError(`k = ${k} is outside 0..${values.length - 1}`);
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const high = new Uint32Array(1 << 16);
  for (let i = 0; i < bits.length; i++) high[orderKey(bits[i]!) >>> 16]!++;
  let below = 0;
  let bucket = 0;
  while (below + high[bucket]! <= k) below += high[bucket++]!;
  const low = new Uint32Array(1 << 16);
  for (let i = 0; i < bits.length; i++) {
    const key = orderKey(bits[i]!);
    if (key >>> 16 === bucket) low[key & 0xffff]!++;
  }
  let slot = 0;
  while (below + low[slot]! <= k) below += low[slot++]!;
  const key = ((bucket << 16) | slot) >>> 0;
  if (key === 0xffffffff) return NaN;
  const pattern = (key & 0x80000000) !== 0 ? key & 0x7fffffff : ~key >>> 0;
  return new Float32Array(new Uint32Array([pattern]).buffer)[0]!;
}

/** Softmax of one row in f64 (max subtracted first), plus the epsilon. */
function softmaxRow(data: Float32Array, view: VectorView, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0, k = view.offset; i < view.length; i++, k += view.stride)
    max = Math.max(max, data[k] as number);
  let sum = 0;
  for (let i = 0, k = view.offset; i < view.length; i++, k += view.stride) {
    out[i] = Math.exp((data[k] as number) - max);
    sum += out[i]!;
  }
  for (let i = 0; i < view.length; i++) out[i] = out[i]! / sum + FUSION_SOFTMAX_EPSILON;
}

/** KL(softmax(θ₁ row) + ε ‖ softmax(θ₀ row) + ε) for every row, each rounded to f32. */
export function rowDivergences(
  other: Float32Array,
  base: Float32Array,
  shape: readonly number[],
): Float32Array {
  const views = vectorViews(shape, "last");
  const kl = new Float32Array(views.length);
  const length = views[0]?.length ?? 0;
  const p = new Float64Array(length);
  const q = new Float64Array(length);
  views.forEach((view, row) => {
    softmaxRow(other, view, p);
    softmaxRow(base, view, q);
    let total = 0;
    for (let i = 0; i < view.length; i++) total += p[i]! * Math.log(p[i]! / q[i]!);
    kl[row] = total;
  });
  return kl;
}

/** median + 1.5·IQR of the importance scores, in f32 (see the module comment). */
export function fusionThreshold(importance: Float32Array): number {
  const last = importance.length - 1;
  const quantile = (q: number): number => kthSmallest(importance, Math.floor(q * last));
  const q1 = quantile(0.25);
  const median = quantile(0.5);
  const q3 = quantile(0.75);
  return fround(median + fround(1.5 * fround(q3 - q1)));
}

/** Arcee Fusion of two same-shaped tensors. */
export function arceeFusion(base: Float32Array, other: Float32Array, shape: readonly number[]): Float32Array {
  const out = Float32Array.from(base);
  if (base.length === 0) return out;
  const kl = rowDivergences(other, base, shape);
  const rowLength = shape.length === 0 ? 1 : (shape[shape.length - 1] as number);
  const delta = new Float32Array(base.length);
  const importance = new Float32Array(base.length);
  for (let e = 0; e < base.length; e++) {
    delta[e] = fround((other[e] as number) - (base[e] as number));
    importance[e] = fround(Math.abs(delta[e]!) * kl[Math.floor(e / rowLength)]!);
  }
  const threshold = fusionThreshold(importance);
  for (let e = 0; e < base.length; e++) {
    if (importance[e]! >= threshold) out[e] = fround((base[e] as number) + delta[e]!);
  }
  return out;
}

export const arceeFusionMethod: MergeMethod = {
  name: "arcee_fusion",
  prettyName: "Arcee Fusion",
  reference:
    "https://www.arcee.ai/blog/meet-mergekit-v0-1-arcee-fusion-expanded-model-support-multi-gpu-acceleration",
  summary:
    "takes the second model's value only where its change from the base is important (change size times the KL divergence of the row's softmax) beyond median + 1.5·IQR, and keeps the base elsewhere (Arcee Fusion).",
  shapePolicy: "task-family",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  maxModels: 1,
  globalParams: [],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const base = requireBase("arcee_fusion", ctx);
    requireInputCount("arcee_fusion", ctx, 1, 1);
    requireOutputSized("arcee_fusion", ctx, [base]);
    const other = alignToBase(ctx.inputs[0]!, base, ctx);
    if (other === undefined) return Float32Array.from(base.data);
    return arceeFusion(base.data, other, base.shape);
  },
};
