/**
 * Passthrough: copies one model's tensor, optionally times its `scale` (mergekit's
 * `merge_methods/passthrough.py`). With `slices`/`layer_range` the planner picks the source
 * model for each output tensor and renames layers; this method only sees the one input.
 *
 * Exact definition: out[i] = f32(θ[i] · f32(scale)), or θ unchanged without `scale`.
 */

import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireInputCount, requireNoBase, requireOutputSized } from "./input-checks.js";
import { readNumber, siteOf } from "./param-reader.js";

const fround = Math.fround;

const SCALE: ParamSpec = { name: "scale", type: "number", description: "factor to multiply the tensor by" };

export const passthroughMethod: MergeMethod = {
  name: "passthrough",
  prettyName: "Passthrough",
  summary: "copies tensors unchanged, for example to stack layer ranges of several models.",
  // Copies one tensor: with slices, a model whose shape differs fails (nothing to crop against).
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "none",
  minModels: 1,
  // Per output tensor (per slice with `slices`); mergekit fails on any other count.
  maxModels: 1,
  globalParams: [],
  perModelParams: [SCALE],
  /** Without `scale` this returns the input's own buffer (no copy); callers must not mutate inputs. */
  merge(ctx: TensorMergeContext): Float32Array {
    requireNoBase("passthrough", ctx);
    requireInputCount("passthrough", ctx, 1, 1);
    const input = ctx.inputs[0]!;
    const count = requireOutputSized("passthrough", ctx, [input]);
    if (input.params[SCALE.name] === undefined) return input.data;
    const scale = fround(readNumber(SCALE, input.params, siteOf("passthrough", ctx, input.model)));
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = fround((input.data[i] as number) * scale);
    return out;
  },
};
