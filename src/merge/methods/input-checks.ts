/**
 * Checks shared by the basic methods (linear, slerp, nuslerp, model_stock, passthrough): the
 * planner promises matching shapes and model counts, but a method re-checks what it relies on so that a planner bug becomes a clear error instead of silently wrong bytes.
 */

import { HubmergeError } from "../../errors.js";
import { elementCount } from "../kernels/layout.js";
import type { MergeInput, TensorMergeContext } from "../types.js";

/** Every input (and the base, if any) holds exactly `ctx.shape`'s number of elements. */
export function requireOutputSized(
  method: string,
  ctx: TensorMergeContext,
  inputs: readonly MergeInput[],
): number {
  const count = elementCount(ctx.shape);
  for (const input of inputs) {
    if (input.data.length !== count) {
      throw new HubmergeError(
        "E_MERGE",
        `${method}: input has ${input.data.length} elements (shape [${input.shape.join(", ")}]), expected ${count} (shape [${ctx.shape.join(", ")}])`,
        {
          hint: "All models must share this tensor's shape; check that they come from the same architecture.",
          where: { model: input.model, tensor: ctx.tensorName },
        },
      );
    }
  }
  return count;
}

/** The number of non-base inputs must lie in [min, max]. */
export function requireInputCount(
  method: string,
  ctx: TensorMergeContext,
  min: number,
  max = Infinity,
): void {
  const count = ctx.inputs.length;
  if (count >= min && count <= max) return;
  const expected = min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  throw new HubmergeError("E_MERGE", `${method} merges ${expected} model(s) besides the base, got ${count}`, {
    hint: `List ${expected} model(s) for ${method} (the base model does not count).`,
    where: { tensor: ctx.tensorName },
  });
}

/** The base tensor, which the planner must pass for methods with `base: "required"`. */
export function requireBase(method: string, ctx: TensorMergeContext): MergeInput {
  if (ctx.base !== undefined) return ctx.base;
  throw new HubmergeError("E_MERGE", `${method} needs a base model`, {
    hint: `Set base_model for ${method}.`,
    where: { tensor: ctx.tensorName },
  });
}

/** Methods without a base receive every model, base included, in `inputs`. */
export function requireNoBase(method: string, ctx: TensorMergeContext): void {
  if (ctx.base === undefined) return;
  throw new HubmergeError(
    "E_INTERNAL",
    `${method} takes no separate base tensor; pass the base among the inputs`,
    {
      where: { model: ctx.base.model, tensor: ctx.tensorName },
    },
  );
}
