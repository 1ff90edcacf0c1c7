/**
 * NuSLERP: mergekit's reworked SLERP (`merge_methods/nuslerp.py`). Two models, each with a
 * `weight`; the interpolation factor is t = w₂ / (w₁ + w₂) (0.5 when |w₁ + w₂| < 1e-6), the
 * models taken in manifest order. With a base model it interpolates the task vectors and adds
 * the result back: θ₀ + slerp(t, θ₁ − θ₀, θ₂ − θ₀). The tensor is flattened into one vector by
 * default; with `nuslerp_flatten: false` each row (vector along the last axis) is interpolated on
 * its own, or each column (vector along the first axis) with `nuslerp_row_wise: true` — mergekit's
 * naming, which transposes dim 0 to the end.
 *
 * Exact definition, per vector (f64 scalars on the host, f32 element arithmetic):
 *   vₖ = θₖ (no base) or f32(θₖ − θ₀);  nₖ = max(√blockedSumSquares(vₖ), 1e-7);
 *   cos = clamp(blockedDot(v1, v2) / (n1·n2), −1, 1);  Ω = acos(cos);
 *   |sin Ω| < 1e-8:  a = f32(1 − t), b = f32(t);
 *   else:            a = f32(sin((1 − t)·Ω) / sin Ω), b = f32(sin(t·Ω) / sin Ω);
 *   out = f32(f32(a·v1) + f32(b·v2)), then f32(θ₀ + out) with a base.
 * mergekit divides the weighted sum by sin Ω after adding; hubmerge folds the division into the
 * weights so that each element sees two multiplications and one addition.
 */

import type { VectorView } from "../kernels/reference/reductions.js";
import { blockedPairSums, vectorViews } from "../kernels/reference/reductions.js";
import type { MergeInput, MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireInputCount, requireOutputSized } from "./input-checks.js";
import { readBoolean, readNumber, siteOf } from "./param-reader.js";
import type { PairWeights } from "./slerp.js";
import { lerpWeights } from "./slerp.js";
import { taskVector } from "./task-vector.js";

const fround = Math.fround;

/** Below this |w₁ + w₂| mergekit falls back to t = 0.5. */
export const NUSLERP_WEIGHT_SUM_EPSILON = 1e-6;
/** Norms are clamped to at least this before normalising. */
export const NUSLERP_NORM_EPSILON = 1e-7;
/** |sin Ω| below this counts as colinear: lerp instead. */
export const NUSLERP_SIN_EPSILON = 1e-8;

/** t from the two models' weights, in f64 as mergekit computes it. */
export function nuslerpFactor(firstWeight: number, secondWeight: number): number {
  const sum = firstWeight + secondWeight;
  return Math.abs(sum) < NUSLERP_WEIGHT_SUM_EPSILON ? 0.5 : secondWeight / sum;
}

/** NuSLERP weights for one vector pair (see the module comment). */
export function nuslerpWeights(v1: Float32Array, v2: Float32Array, view: VectorView, t: number): PairWeights {
  const sums = blockedPairSums(v1, v2, view);
  const n1 = Math.max(Math.sqrt(sums.squaresA), NUSLERP_NORM_EPSILON);
  const n2 = Math.max(Math.sqrt(sums.squaresB), NUSLERP_NORM_EPSILON);
  const cos = Math.min(1, Math.max(-1, sums.dot / (n1 * n2)));
  const omega = Math.acos(cos);
  const sinOmega = Math.sin(omega);
  if (Math.abs(sinOmega) < NUSLERP_SIN_EPSILON) return lerpWeights(t);
  return { a: fround(Math.sin((1 - t) * omega) / sinOmega), b: fround(Math.sin(t * omega) / sinOmega) };
}

const FLATTEN: ParamSpec = {
  name: "nuslerp_flatten",
  type: "boolean",
  default: true,
  description: "interpolate the whole tensor as one vector; false interpolates row by row",
};
const ROW_WISE: ParamSpec = {
  name: "nuslerp_row_wise",
  type: "boolean",
  default: false,
  description: "without flattening, interpolate vectors along the first axis instead of the last",
};
const WEIGHT: ParamSpec = {
  name: "weight",
  type: "number",
  required: true,
  description: "relative weight; t = w₂ / (w₁ + w₂)",
};

export const nuslerpMethod: MergeMethod = {
  name: "nuslerp",
  prettyName: "NuSLERP",
  summary:
    "spherically interpolates two models (or their task vectors from a base) with a factor taken from their weights.",
  // Interpolates elementwise between two tensors: their shapes must match.
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "optional",
  minModels: 2,
  maxModels: 2,
  globalParams: [FLATTEN, ROW_WISE],
  perModelParams: [WEIGHT],
  merge(ctx: TensorMergeContext): Float32Array {
    requireInputCount("nuslerp", ctx, 2, 2);
    const [first, second] = ctx.inputs as [MergeInput, MergeInput];
    const base = ctx.base;
    requireOutputSized("nuslerp", ctx, base === undefined ? [first, second] : [base, first, second]);
    const t = nuslerpFactor(
      readNumber(WEIGHT, first.params, siteOf("nuslerp", ctx, first.model)),
      readNumber(WEIGHT, second.params, siteOf("nuslerp", ctx, second.model)),
    );
    const flatten = readBoolean(FLATTEN, ctx.global, siteOf("nuslerp", ctx));
    const rowWise = readBoolean(ROW_WISE, ctx.global, siteOf("nuslerp", ctx));
    const v1 = base === undefined ? first.data : taskVector(first, base);
    const v2 = base === undefined ? second.data : taskVector(second, base);
    const out = new Float32Array(v1.length);
    for (const view of vectorViews(ctx.shape, flatten ? "all" : rowWise ? "first" : "last")) {
      const { a, b } = nuslerpWeights(v1, v2, view, t);
      for (let i = 0, k = view.offset; i < view.length; i++, k += view.stride) {
        const mixed = fround(fround(a * (v1[k] as number)) + fround(b * (v2[k] as number)));
        out[k] = base === undefined ? mixed : fround((base.data[k] as number) + mixed);
      }
    }
    return out;
  },
};
