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
import type { MergeMethod, TensorMergeContext } from "../types.js";
import {
  booleanParam,
  numberParam,
  requireInputCount,
  requireNoBase,
  requireOutputSized,
} from "./input-checks.js";

const fround = Math.fround;

/** Σ f32(wᵢ), summed in f32 in model order. */
export function f32WeightSum(weights: readonly number[]): number {
  let sum = 0;
  for (const weight of weights) sum = fround(sum + fround(weight));
  return sum;
}

export const linearMethod: MergeMethod = {
  name: "linear",
  prettyName: "Linear",
  reference: "https://arxiv.org/abs/2203.05482",
  base: "none",
  minModels: 1,
  globalParams: [
    {
      name: "normalize",
      type: "boolean",
      default: true,
      description: "divide by the sum of the weights",
    },
  ],
  perModelParams: [{ name: "weight", type: "number", required: true, description: "the model's weight" }],
  merge(ctx: TensorMergeContext): Float32Array {
    requireNoBase("linear", ctx);
    requireInputCount("linear", ctx, 1);
    const count = requireOutputSized("linear", ctx, ctx.inputs);
    const weights = ctx.inputs.map((input) =>
      numberParam("linear", ctx, input.params, "weight", input.model),
    );
    const out = new Float32Array(count);
    ctx.inputs.forEach((input, model) => {
      const weight = fround(weights[model] as number);
      const data = input.data;
      for (let i = 0; i < count; i++)
        out[i] = fround((out[i] as number) + fround(weight * (data[i] as number)));
    });
    if (!booleanParam("linear", ctx, "normalize")) return out;
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
};
