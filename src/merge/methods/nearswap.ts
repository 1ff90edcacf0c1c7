/**
 * NearSwap (mergekit's `merge_methods/nearswap.py`, from alchemonaut's QuartetAnemoi merges): take
 * the other model's value where it is already close to the base's, keep the base's where the two
 * differ. Per element the weight of the other model is t / |θ₀ − θ₁|, clamped to [0, 1], so an
 * element within t of the base becomes the other model's, and a far one moves only a little.
 *
 * Exact definition (f32 element arithmetic; this is also mergekit's order of operations in f32,
 * where torch evaluates `t / tensor` as `tensor.reciprocal() * t`):
 *   d = max(|f32(θ₀ − θ₁)|, f32(1e-6));  w = clamp(f32(f32(1 / d) · f32(t)), 0, 1);
 *   out = f32(f32(w·θ₁) + f32(f32(1 − w)·θ₀)).
 * NaN flows through (a NaN difference gives a NaN weight and a NaN output), as in torch's clamp.
 * Where the weight is NaN (θ₀ or θ₁ NaN, or both infinite with one sign), the output is the
 * canonical quiet NaN 0x7FC00000: the products and the sum would each meet two NaNs, and which one
 * V8 returns then depends on how it compiled the loop (observed both ways), so no backend could
 * reproduce the payload.
 */

import type { NearswapPlan, PlanRequest } from "../kernels/plan.js";
import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { readNumber, siteOf, validNumber } from "./param-reader.js";

const fround = Math.fround;

/** mergekit clamps |θ₀ − θ₁| to at least this before dividing. */
export const NEARSWAP_MIN_DISTANCE = 1e-6;

/** clamp(x, 0, 1) that keeps NaN (JavaScript's Math.min/max would too, but this says so). */
function clampUnit(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** out = nearswap(θ₀, θ₁) for every element (see the module comment). */
export function nearswap(base: Float32Array, other: Float32Array, t: number): Float32Array {
  const threshold = fround(t);
  const floor = fround(NEARSWAP_MIN_DISTANCE);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) {
    const a = base[i] as number;
    const b = other[i] as number;
    const distance = Math.abs(fround(a - b));
    const weight = clampUnit(fround(fround(1 / (distance < floor ? floor : distance)) * threshold));
    out[i] = weight !== weight ? NaN : fround(fround(weight * b) + fround(fround(1 - weight) * a));
  }
  return out;
}

const T: ParamSpec = {
  name: "t",
  type: "number",
  required: true,
  description: "distance below which the other model's value is taken whole",
  range: { min: 0 },
  hint: "t is a distance between weights (e.g. 0.0001), so it cannot be negative; 0 keeps the base.",
};

/**
 * The kernels' plan (wasm and WebGPU run the definition above elementwise). Declines, leaving the
 * error to the reference, without a base and exactly one model, or when t is not a valid number.
 */
function planNearswap(request: PlanRequest): NearswapPlan | undefined {
  if (!request.hasBase || request.models.length !== 1) return undefined;
  const t = validNumber(T, request.global[T.name] ?? T.default);
  if (t === undefined) return undefined;
  return { kind: "nearswap", t: fround(t), minDistance: fround(NEARSWAP_MIN_DISTANCE) };
}

export const nearswapMethod: MergeMethod = {
  name: "nearswap",
  prettyName: "NearSwap",
  reference: "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001",
  summary:
    "takes the second model's value wherever it lies within a distance t of the base's, and moves only part of the way (t divided by the distance) where they differ more (NearSwap).",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  maxModels: 1,
  globalParams: [T],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const base = requireBase("nearswap", ctx);
    requireInputCount("nearswap", ctx, 1, 1);
    const other = ctx.inputs[0]!;
    requireOutputSized("nearswap", ctx, [base, other]);
    return nearswap(base.data, other.data, readNumber(T, ctx.global, siteOf("nearswap", ctx)));
  },
  kernelPlan: planNearswap,
};
