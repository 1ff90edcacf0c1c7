/**
 * Model Stock (Jang et al., 2024), as mergekit implements it (`merge_methods/model_stock.py`):
 * the average of N ≥ 2 fine-tunes is pulled towards the base by a factor that depends on how
 * aligned their task vectors are. mergekit (and hubmerge) take the angle as the mean of the
 * pairwise cosines; the paper does not say how to combine more than two.
 *
 * Exact definition, per vector (f64 scalars on the host, f32 element arithmetic):
 *   δₖ = f32(θₖ − θ₀);  nₖ = √blockedSumSquares(δₖ);
 *   cos_ij = clamp(blockedDot(δᵢ, δⱼ) / max(nᵢ·nⱼ, 1e-6), −1, 1) for i < j;
 *   cos = (Σ cos_ij, summed in order (0,1), (0,2), …, (1,2), …) / pair count;
 *   t = N·cos / (1 + (N − 1)·cos);  a = f32(t), b = f32(1 − t);
 *   avg = f32(acc / N) with acc = 0, acc = f32(acc + θₖ) for k in order;
 *   out = f32(f32(a·avg) + f32(b·θ₀)).
 * `filter_wise: true` computes t per row (vector along the last axis; a 1-D tensor is one row)
 * instead of once for the flattened tensor.
 */

import { HubmergeError } from "../../errors.js";
import type { VectorView } from "../kernels/reference/reductions.js";
import { blockedDotStrided, blockedSumSquaresStrided, vectorViews } from "../kernels/reference/reductions.js";
import type { MergeInput, MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { readBoolean, siteOf } from "./param-reader.js";
import { taskVector } from "./task-vector.js";

const fround = Math.fround;

/** Products of norms below this are clamped to it, so zero task vectors give cos = 0. */
export const MODEL_STOCK_NORM_EPSILON = 1e-6;

/** Mean pairwise cosine of the task vectors over one vector view. */
export function meanPairwiseCosine(deltas: readonly Float32Array[], view: VectorView): number {
  const norms = deltas.map((delta) => Math.sqrt(blockedSumSquaresStrided(delta, view)));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < deltas.length; i++) {
    for (let j = i + 1; j < deltas.length; j++) {
      const denominator = Math.max((norms[i] as number) * (norms[j] as number), MODEL_STOCK_NORM_EPSILON);
      const cos = blockedDotStrided(deltas[i]!, deltas[j]!, view) / denominator;
      sum += Math.min(1, Math.max(-1, cos));
      pairs++;
    }
  }
  return sum / pairs;
}

/** The paper's interpolation ratio t = N·cos / (1 + (N − 1)·cos). */
export function modelStockRatio(modelCount: number, cos: number): number {
  return (modelCount * cos) / (1 + (modelCount - 1) * cos);
}

/** avg = f32(acc / N), acc = 0 then acc = f32(acc + θₖ) in model order. */
function averageOf(models: readonly MergeInput[]): Float32Array {
  const acc = new Float32Array(models[0]!.data.length);
  for (const model of models) {
    const data = model.data;
    for (let i = 0; i < acc.length; i++) acc[i] = fround((acc[i] as number) + (data[i] as number));
  }
  for (let i = 0; i < acc.length; i++) acc[i] = fround((acc[i] as number) / models.length);
  return acc;
}

function ratioFor(ctx: TensorMergeContext, deltas: readonly Float32Array[], view: VectorView): number {
  const cos = meanPairwiseCosine(deltas, view);
  const t = modelStockRatio(deltas.length, cos);
  if (Number.isFinite(t) || Number.isNaN(cos)) return t;
  throw new HubmergeError(
    "E_MERGE",
    `model_stock: the task vectors point in opposite directions (mean cosine ${cos}), so the interpolation ratio is undefined`,
    {
      hint: "Model Stock needs fine-tunes that moved the same way from the base; use another method (e.g. linear or task_arithmetic) for these models.",
      where: { tensor: ctx.tensorName },
    },
  );
}

const FILTER_WISE: ParamSpec = {
  name: "filter_wise",
  type: "boolean",
  default: false,
  description: "compute the ratio per row (vector along the last axis) instead of per tensor",
};

export const modelStockMethod: MergeMethod = {
  name: "model_stock",
  prettyName: "Model Stock",
  reference: "https://arxiv.org/abs/2403.19522",
  summary:
    "moves from the base towards the average of the fine-tunes by a factor computed from the angle between their task vectors (Model Stock).",
  // Averages and compares task vectors elementwise: every shape must match the base's.
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 2,
  globalParams: [FILTER_WISE],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const base = requireBase("model_stock", ctx);
    requireInputCount("model_stock", ctx, 2);
    requireOutputSized("model_stock", ctx, [base, ...ctx.inputs]);
    const filterWise = readBoolean(FILTER_WISE, ctx.global, siteOf("model_stock", ctx));
    const deltas = ctx.inputs.map((model) => taskVector(model, base));
    const average = averageOf(ctx.inputs);
    const out = new Float32Array(base.data.length);
    for (const view of vectorViews(ctx.shape, filterWise ? "last" : "all")) {
      const t = ratioFor(ctx, deltas, view);
      const a = fround(t);
      const b = fround(1 - t);
      for (let i = 0, k = view.offset; i < view.length; i++, k += view.stride) {
        out[k] = fround(fround(a * (average[k] as number)) + fround(b * (base.data[k] as number)));
      }
    }
    return out;
  },
};
