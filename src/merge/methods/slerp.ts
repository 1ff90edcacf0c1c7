/**
 * SLERP: spherical linear interpolation between the base (v0) and one other model (v1), with
 * mergekit's rules (`merge_methods/slerp.py`): the angle comes from the flattened tensors'
 * directions; when they are nearly parallel (|cos| > 0.9995) plain lerp is used; the slerp
 * weights apply to the original, unnormalised tensors.
 *
 * Exact definition (f64 scalars on the host, f32 element arithmetic):
 *   dot = blockedDot(v0, v1); nₖ = √blockedSumSquares(vₖ), taken as 1 when nₖ ≤ 1e-8;
 *   cos = dot / (n0·n1);
 *   |cos| > 0.9995:  a = f32(1 − t), b = f32(t);
 *   else:            Ω = acos(cos), a = f32(sin(Ω − t·Ω) / sin Ω), b = f32(sin(t·Ω) / sin Ω);
 *   out[i] = f32(f32(a·v0[i]) + f32(b·v1[i])).
 * t = 0 and t = 1 give v0 and v1 exactly (a, b are exactly 1 and 0).
 */

import { blockedPairSums } from "../kernels/reference/reductions.js";
import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { readNumber, siteOf } from "./param-reader.js";

const fround = Math.fround;

/** mergekit's DOT_THRESHOLD: above it the vectors count as colinear and lerp is used. */
export const SLERP_DOT_THRESHOLD = 0.9995;
/** mergekit's normalisation epsilon: a vector with a smaller norm is left unnormalised. */
export const SLERP_NORM_EPSILON = 1e-8;

/** The f32 weights (a, b) of out = a·v0 + b·v1. */
export interface PairWeights {
  a: number;
  b: number;
}

/** Lerp weights (1 − t, t), each computed in f64 and rounded to f32 once. */
export function lerpWeights(t: number): PairWeights {
  return { a: fround(1 - t), b: fround(t) };
}

/** SLERP weights for a given cosine between the two tensors (see the module comment). */
export function slerpWeights(cos: number, t: number): PairWeights {
  if (Math.abs(cos) > SLERP_DOT_THRESHOLD) return lerpWeights(t);
  const omega = Math.acos(cos);
  const sinOmega = Math.sin(omega);
  const omegaT = omega * t;
  return { a: fround(Math.sin(omega - omegaT) / sinOmega), b: fround(Math.sin(omegaT) / sinOmega) };
}

/** cos of the angle between the flattened tensors, normalising as mergekit does. */
export function slerpCosine(v0: Float32Array, v1: Float32Array): number {
  const sums = blockedPairSums(v0, v1, { offset: 0, stride: 1, length: v0.length });
  const n0 = Math.sqrt(sums.squaresA);
  const n1 = Math.sqrt(sums.squaresB);
  const d0 = n0 > SLERP_NORM_EPSILON ? n0 : 1;
  const d1 = n1 > SLERP_NORM_EPSILON ? n1 : 1;
  return sums.dot / (d0 * d1);
}

/** out[i] = f32(f32(a·v0[i]) + f32(b·v1[i])). */
export function combinePair(weights: PairWeights, v0: Float32Array, v1: Float32Array): Float32Array {
  const { a, b } = weights;
  const out = new Float32Array(v0.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = fround(fround(a * (v0[i] as number)) + fround(b * (v1[i] as number)));
  }
  return out;
}

const T: ParamSpec = {
  name: "t",
  type: "number",
  required: true,
  range: { min: 0, max: 1 },
  hint: "t interpolates from the base model (0) to the other model (1).",
  description: "interpolation factor: 0 gives the base model, 1 the other model",
};

export const slerpMethod: MergeMethod = {
  name: "slerp",
  prettyName: "SLERP",
  reference: "https://en.wikipedia.org/wiki/Slerp",
  summary:
    "interpolates between two models along the great circle through their weights (spherical linear interpolation).",
  // Interpolates elementwise between two tensors: their shapes must match.
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  maxModels: 1,
  globalParams: [T],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const base = requireBase("slerp", ctx);
    requireInputCount("slerp", ctx, 1, 1);
    const other = ctx.inputs[0]!;
    requireOutputSized("slerp", ctx, [base, other]);
    const t = readNumber(T, ctx.global, siteOf("slerp", ctx));
    const weights = slerpWeights(slerpCosine(base.data, other.data), t);
    return combinePair(weights, base.data, other.data);
  },
};
