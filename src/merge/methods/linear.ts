/**
 * Linear (weighted average, "model soups"; Wortsman et al., 2022) as mergekit defines it
 * (`merge_methods/linear.py`): Σwᵢθᵢ / Σwᵢ, or Σwᵢθᵢ with `normalize: false`. There is no
 * separate base: a `base_model` is merged like any other model (mergekit appends it to the
 * models), so the planner passes every model in `inputs` and no `base`.
 *
 * Exact definition (f32 element arithmetic, models in manifest order):
 *   acc = 0; acc = f32(acc + f32(f32(wᵢ)·θᵢ)) for each model;
 *   normalize: W = 0, W = f32(W + f32(wᵢ)) in the same order; out = f32(acc / W).
 * With `normalize` and W = 0 mergekit divides by zero (NaN/±Inf tensors); hubmerge refuses.
 */

import { HubmergeError } from "../../errors.js";
import type { PlanRequest, TaskPlan } from "../kernels/plan.js";
import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireInputCount, requireNoBase, requireOutputSized } from "./input-checks.js";
import { readBoolean, readNumber, siteOf, validBoolean, validNumber } from "./param-reader.js";
import { f32WeightSum } from "./weight-sum.js";

const fround = Math.fround;

const NORMALIZE: ParamSpec = {
  name: "normalize",
  type: "boolean",
  default: true,
  description: "divide by the sum of the weights",
};
const WEIGHT: ParamSpec = {
  name: "weight",
  type: "number",
  required: true,
  description: "the model's weight",
};

/**
 * The kernels' plan: plain weighted sums. Declines (the reference decides) when normalize is not
 * resolved to a boolean, a weight is not a finite number, or normalising would divide by 0.
 */
function planLinear(request: PlanRequest): TaskPlan | undefined {
  if (request.hasBase) return undefined;
  const normalize = validBoolean(request.global[NORMALIZE.name]);
  if (normalize === undefined) return undefined;
  const weights = request.models.map((m) => validNumber(WEIGHT, m.params[WEIGHT.name]));
  if (weights.some((w) => w === undefined)) return undefined;
  const total = f32WeightSum(weights as number[]);
  if (normalize && total === 0) return undefined;
  return {
    kind: "task",
    hasBase: false,
    consensus: false,
    normalize,
    lambda: 1,
    plainDivisor: total,
    terms: weights.map((w) => ({ weight: fround(w!), sparsity: { mode: "dense" } })),
  };
}

export const linearMethod: MergeMethod = {
  name: "linear",
  prettyName: "Linear",
  reference: "https://arxiv.org/abs/2203.05482",
  summary: "averages the models' weights, each scaled by its weight (a model soup).",
  // Sums elementwise: every model must have the tensor in the same shape.
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "none",
  minModels: 1,
  globalParams: [NORMALIZE],
  perModelParams: [WEIGHT],
  merge(ctx: TensorMergeContext): Float32Array {
    requireNoBase("linear", ctx);
    requireInputCount("linear", ctx, 1);
    const count = requireOutputSized("linear", ctx, ctx.inputs);
    const weights = ctx.inputs.map((input) =>
      readNumber(WEIGHT, input.params, siteOf("linear", ctx, input.model)),
    );
    const out = new Float32Array(count);
    ctx.inputs.forEach((input, model) => {
      const weight = fround(weights[model] as number);
      const data = input.data;
      for (let i = 0; i < count; i++)
        out[i] = fround((out[i] as number) + fround(weight * (data[i] as number)));
    });
    if (!readBoolean(NORMALIZE, ctx.global, siteOf("linear", ctx))) return out;
    const total = f32WeightSum(weights);
    if (total === 0) {
      throw new HubmergeError(
        "E_MERGE",
        "linear: the model weights sum to 0, so normalizing divides by zero",
        {
          hint: "Change the weights (for every layer, if they are gradients or filtered) or set normalize: false.",
          where: { tensor: ctx.tensorName },
        },
      );
    }
    for (let i = 0; i < count; i++) out[i] = fround((out[i] as number) / total);
    return out;
  },
  kernelPlan: planLinear,
};
