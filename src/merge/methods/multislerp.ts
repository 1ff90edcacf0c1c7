/**
 * Multi-SLERP (mergekit's `merge_methods/multislerp.py`; goddard.blog "multislerp"): barycentric
 * interpolation of N models on the hypersphere. mergekit projects the unit vectors onto the
 * tangent space at their normalised weighted mean, averages there, and maps back. The weighted
 * tangent vectors at that point sum to zero exactly (Σ ŵᵢ(uᵢ − (uᵢ·m̂)m̂) = m − ‖m‖m̂ = 0), so
 * the result is the normalised weighted mean of the unit vectors, scaled by the weighted mean of
 * the norms; mergekit's tangent step only adds f32 rounding noise, and hubmerge leaves it out.
 * With a base the task vectors are interpolated and the result is added back.
 *
 * Exact definition (f64 scalars on the host, f32 element arithmetic, models in manifest order):
 *   vᵢ = θᵢ (no base) or f32(θᵢ − θ₀);  one model: out = θ₁ (as mergekit);
 *   ŵᵢ = wᵢ / Σwⱼ (normalize_weights) or wᵢ;  G = Gram matrix of the vᵢ (span.ts);
 *   nᵢ = √Gᵢᵢ;  μᵢ = ŵᵢ / (nᵢ + eps);  ‖m‖ = √(μᵀGμ);  s = Σ nᵢŵᵢ;
 *   ‖m‖ ≥ eps:  cᵢ = s·μᵢ / ‖m‖;
 *   ‖m‖ < eps:  two models (or all vᵢ zero): cᵢ = ŵᵢ (lerp, mergekit's fallback); else E_MERGE;
 *   out = Σ f32(f32(cᵢ)·vᵢ) (span.ts combine), then f32(θ₀ + out) with a base.
 */

import { HubmergeError } from "../../errors.js";
import type { MergeInput, MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireInputCount, requireOutputSized } from "./input-checks.js";
import { readBoolean, readNumber, siteOf } from "./param-reader.js";
import { combine, gramMatrix, gramProduct } from "./span.js";
import { taskVector } from "./task-vector.js";

const fround = Math.fround;

function taskVectors(inputs: readonly MergeInput[], base: MergeInput | undefined): Float32Array[] {
  if (base === undefined) return inputs.map((input) => input.data);
  return inputs.map((input) => taskVector(input, base));
}

const NORMALIZE_WEIGHTS: ParamSpec = {
  name: "normalize_weights",
  type: "boolean",
  default: true,
  description: "divide the weights by their sum",
};

const EPS: ParamSpec = {
  name: "eps",
  type: "number",
  default: 1e-8,
  description: "small constant added to norms for numerical stability",
  // 0 would divide a zero task vector by its zero norm (NaN, in mergekit too).
  range: { min: 0, minExclusive: true },
  hint: "eps is a small positive constant such as 1e-8.",
};

const WEIGHT: ParamSpec = {
  name: "weight",
  type: "number",
  required: true,
  description: "the model's relative weight",
};

function effectiveWeights(ctx: TensorMergeContext): number[] {
  const weights = ctx.inputs.map((input) =>
    readNumber(WEIGHT, input.params, siteOf("multislerp", ctx, input.model)),
  );
  if (!readBoolean(NORMALIZE_WEIGHTS, ctx.global, siteOf("multislerp", ctx))) return weights;
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (total === 0) {
    throw new HubmergeError(
      "E_MERGE",
      "multislerp: the model weights sum to 0, so normalizing divides by zero",
      {
        hint: "Change the weights (for every layer, if they are gradients or filtered) or set normalize_weights: false.",
        where: { tensor: ctx.tensorName },
      },
    );
  }
  return weights.map((weight) => weight / total);
}

/** The coefficients cᵢ of out = Σ cᵢ·vᵢ (see the module comment). */
export function multislerpCoefficients(
  ctx: TensorMergeContext,
  gram: Float64Array,
  weights: readonly number[],
  eps: number,
): number[] {
  const count = weights.length;
  const norms = weights.map((_, i) => Math.sqrt(gram[i * count + i]!));
  const mu = weights.map((weight, i) => weight / ((norms[i] as number) + eps));
  const meanNorm = Math.sqrt(Math.max(0, gramProduct(gram, mu, mu)));
  if (meanNorm >= eps) {
    const scale = weights.reduce((sum, weight, i) => sum + (norms[i] as number) * weight, 0);
    return mu.map((m) => (scale * m) / meanNorm);
  }
  if (count === 2 || norms.every((norm) => norm === 0)) return [...weights];
  throw new HubmergeError(
    "E_MERGE",
    "multislerp: the weighted mean of the models' directions is zero (opposite tensors with weights that balance out)",
    {
      hint: "Change the weights so that they do not cancel, or leave out one of the opposite models.",
      where: { tensor: ctx.tensorName },
    },
  );
}

export const multislerpMethod: MergeMethod = {
  name: "multislerp",
  prettyName: "Multi-SLERP",
  reference: "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea",
  summary:
    "interpolates any number of models on the hypersphere: the weighted mean of their directions, rescaled to the weighted mean of their norms (Multi-SLERP; on task vectors when a base is given).",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "optional",
  minModels: 1,
  globalParams: [NORMALIZE_WEIGHTS, EPS],
  perModelParams: [WEIGHT],
  merge(ctx: TensorMergeContext): Float32Array {
    requireInputCount("multislerp", ctx, 1);
    const base = ctx.base;
    requireOutputSized("multislerp", ctx, base === undefined ? ctx.inputs : [base, ...ctx.inputs]);
    // One model is returned as it is, before any weight is looked at (as mergekit).
    if (ctx.inputs.length === 1) return Float32Array.from(ctx.inputs[0]!.data);
    const weights = effectiveWeights(ctx);
    const eps = readNumber(EPS, ctx.global, siteOf("multislerp", ctx));
    const vectors = taskVectors(ctx.inputs, base);
    const out = combine(vectors, multislerpCoefficients(ctx, gramMatrix(vectors), weights, eps));
    if (base !== undefined)
      for (let e = 0; e < out.length; e++) out[e] = fround((base.data[e] as number) + (out[e] as number));
    return out;
  },
};
