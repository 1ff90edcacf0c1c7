/**
 * SCE, Select–Calculate–Erase (FuseChat, arXiv 2408.07990), as mergekit implements it
 * (`merge_methods/sce.py`). Per tensor:
 *   select:    with select_topk < 1, keep only the positions whose task-vector values vary most
 *              across the models (the top ⌊nonzero·select_topk⌋ variances), zero the rest;
 *   calculate: each model's weight is the mean square of its (selected) task vector, normalised
 *              over the models;
 *   erase:     TIES's sign election; values against the majority sign are dropped;
 * then the weighted agreeing sum, divided by the sum of the agreeing weights, is added to the base.
 *
 * Exact definition (f64 scalars on the host, f32 element arithmetic, models in manifest order):
 *   δᵢ = f32(θᵢ − θ₀);
 *   select (0 < select_topk < 1): var[e] = f32(Σᵢ(δᵢ[e] − μ)² / N) with μ = Σᵢδᵢ[e] / N (f64);
 *     k = trunc(f32(f32(#{var ≠ 0}) · f32(select_topk))); keep the k largest var (larger first,
 *     equal values by ascending index, as magnitude-select.ts); δᵢ[e] = +0 elsewhere, for every i;
 *     select_topk ≤ 0 (or k = 0) zeroes every δᵢ; select_topk ≥ 1 selects everything;
 *   mᵢ = blockedSumSquares(δᵢ) / n;  S = Σᵢ mᵢ;  wᵢ = f32(mᵢ / S), or f32(1 / N) when |S| < 1e-6;
 *   s[e] = +1 iff f32 Σᵢ δᵢ[e] ≥ 0 (else −1);  agreeing: sign(δᵢ[e]) = s[e] (zeros never agree);
 *   M = Σ agreeing f32(wᵢ·δᵢ), D = Σ agreeing wᵢ (both f32, from +0);
 *   out = f32(θ₀ + f32(M / max(D, f32(1e-6)))).
 */

import type { PlanRequest, ScePlan } from "../kernels/plan.js";
import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { magnitudeTopKMask } from "../kernels/reference/magnitude-select.js";
import { blockedSumSquares } from "../kernels/reference/reductions.js";
import { signElection } from "../kernels/reference/primitives.js";
import {
  sceSelectCount,
  sceWeightsFromSums,
  taskVectorVariance,
} from "../kernels/reference/sce-primitives.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { readBoolean, readNumber, siteOf, validBoolean, validNumber } from "./param-reader.js";
import { taskVector } from "./task-vector.js";

export {
  SCE_WEIGHT_SUM_EPSILON,
  sceSelectCount,
  taskVectorVariance,
} from "../kernels/reference/sce-primitives.js";

const fround = Math.fround;

/** The divisor (sum of agreeing weights) is clamped to at least this. */
export const SCE_DIVISOR_FLOOR = 1e-6;

/** Zeroes, in every task vector, the positions outside the top variances (in place). */
export function sceSelect(deltas: Float32Array[], topk: number): void {
  if (topk >= 1) return;
  const variance = topk > 0 ? taskVectorVariance(deltas) : new Float32Array(0);
  let nonzero = 0;
  for (let e = 0; e < variance.length; e++) if (variance[e] !== 0) nonzero++;
  const k = topk > 0 ? sceSelectCount(nonzero, topk) : 0;
  if (k <= 0) {
    for (const delta of deltas) delta.fill(0);
    return;
  }
  const keep = magnitudeTopKMask(variance, k);
  for (const delta of deltas) for (let e = 0; e < delta.length; e++) if (keep[e] === 0) delta[e] = 0;
}

/** Each model's f32 weight: its mean square normalised over the models (see the module comment). */
export function sceWeights(deltas: readonly Float32Array[]): number[] {
  return sceWeightsFromSums(deltas.map(blockedSumSquares), deltas[0]?.length ?? 0);
}

function signOf(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** f32(θ₀ + f32(M / max(D, 1e-6))) over the sign-agreeing weighted task vectors. */
function eraseAndMix(base: Float32Array, deltas: readonly Float32Array[], weights: readonly number[]) {
  const majority = signElection(deltas, "sum");
  const mixed = new Float32Array(base.length);
  const divisor = new Float32Array(base.length);
  deltas.forEach((delta, i) => {
    const weight = weights[i] as number;
    for (let e = 0; e < delta.length; e++) {
      const d = delta[e] as number;
      if (signOf(d) !== majority[e]) continue;
      mixed[e] = fround((mixed[e] as number) + fround(weight * d));
      divisor[e] = fround((divisor[e] as number) + weight);
    }
  });
  const floor = fround(SCE_DIVISOR_FLOOR);
  for (let e = 0; e < mixed.length; e++) {
    const d = divisor[e] as number;
    mixed[e] = fround((base[e] as number) + fround((mixed[e] as number) / (d < floor ? floor : d)));
  }
  return mixed;
}

const SELECT_TOPK: ParamSpec = {
  name: "select_topk",
  type: "number",
  default: 1,
  description: "fraction of positions kept, those with the highest variance across the models",
  range: { min: 0, max: 1 },
  hint: "select_topk is a fraction: 0.1 keeps the 10% most varying positions, 1 keeps all of them.",
};

const INT8_MASK: ParamSpec = {
  name: "int8_mask",
  type: "boolean",
  default: false,
  description: "accepted for mergekit compatibility (a memory saving there); no effect on the result",
};

/**
 * The kernels' plan (wasm; the GPU declines it). Declines, leaving the error to the reference,
 * without a base, or when select_topk or int8_mask is not valid.
 */
function planSce(request: PlanRequest): ScePlan | undefined {
  if (!request.hasBase) return undefined;
  const topk = validNumber(SELECT_TOPK, request.global[SELECT_TOPK.name] ?? SELECT_TOPK.default);
  const int8Mask = validBoolean(request.global[INT8_MASK.name] ?? INT8_MASK.default);
  if (topk === undefined || int8Mask === undefined) return undefined;
  return {
    kind: "sce",
    selectTopK: topk,
    divisorFloor: fround(SCE_DIVISOR_FLOOR),
  };
}

export const sceMethod: MergeMethod = {
  name: "sce",
  prettyName: "SCE",
  reference: "https://arxiv.org/abs/2408.07990",
  summary:
    "keeps the task-vector positions that vary most across the models, weights each model by the mean square of its task vector, drops entries against the majority sign, and adds the weighted average to the base (SCE, from FuseChat).",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  globalParams: [SELECT_TOPK, INT8_MASK],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const base = requireBase("sce", ctx);
    requireInputCount("sce", ctx, 1);
    requireOutputSized("sce", ctx, [base, ...ctx.inputs]);
    const topk = readNumber(SELECT_TOPK, ctx.global, siteOf("sce", ctx));
    readBoolean(INT8_MASK, ctx.global, siteOf("sce", ctx));
    if (base.data.length === 0) return new Float32Array(0);
    const deltas = ctx.inputs.map((input) => taskVector(input, base));
    sceSelect(deltas, topk);
    return eraseAndMix(base.data, deltas, sceWeights(deltas));
  },
  kernelPlan: planSce,
};
