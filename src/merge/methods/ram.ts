/**
 * RAM, Reinforced Agent Merging (arXiv 2601.13572), as mergekit implements it
 * (`merge_methods/ram.py`): RL fine-tunes change few weights, and averaging would dilute them, so
 * each element of the task vectors is classified by how many models changed it. An element one
 * model changed takes that model's change whole; an element several changed takes their average;
 * an element nobody changed keeps the base's value. `ramplus_tl` (ramplus-tl.ts) also amplifies
 * each model's unique changes.
 *
 * Exact definition (f32 element arithmetic; mergekit's order of operations in f32):
 *   δᵢ = f32(θᵢ − θ₀);  activeᵢ = |δᵢ| > f32(epsilon);  c = number of active models (per element);
 *   termᵢ = 0 if not activeᵢ;  f32(δᵢ·λᵢ) if c = 1;  f32(δᵢ / c) if c > 1;
 *   out = f32(θ₀ + M) with M = 0, M = f32(M + termᵢ) in model order.
 * λᵢ is 1 for `ram` (and then δᵢ·1 = δᵢ). An inactive element contributes +0; mergekit multiplies
 * by the mask instead, so an inactive NaN (|NaN| > ε is false) would turn its output into NaN.
 */

import { HubmergeError } from "../../errors.js";
import type { MergeInput, MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireBase, requireInputCount, requireOutputSized } from "./input-checks.js";
import { readNumber, siteOf } from "./param-reader.js";

const fround = Math.fround;

export const RAM_REFERENCE = "https://arxiv.org/abs/2601.13572";

export const RAM_EPSILON_SPEC: ParamSpec = {
  name: "epsilon",
  type: "number",
  default: 1e-5,
  description: "a task-vector entry counts as changed when its magnitude exceeds this",
  range: { min: 0 },
  hint: "epsilon is a magnitude threshold such as 1e-5; 0 counts every non-zero change.",
};

/** The task vectors and, per element, how many of them are active (|δ| > f32(ε)). */
export interface RamVectors {
  deltas: Float32Array[];
  counts: Uint16Array;
  threshold: number;
}

export function ramVectors(base: MergeInput, inputs: readonly MergeInput[], epsilon: number): RamVectors {
  if (inputs.length > 0xffff) {
    throw new HubmergeError("E_MERGE", `ram: ${inputs.length} models are more than it can count per element`);
  }
  const threshold = fround(epsilon);
  const counts = new Uint16Array(base.data.length);
  const deltas = inputs.map((input) => {
    const delta = new Float32Array(base.data.length);
    for (let e = 0; e < delta.length; e++) {
      const d = fround((input.data[e] as number) - (base.data[e] as number));
      delta[e] = d;
      if (Math.abs(d) > threshold) counts[e]!++;
    }
    return delta;
  });
  return { deltas, counts, threshold };
}

/** out = θ₀ + Σ termᵢ with each model's unique changes scaled by `lambdas[i]` (f32 values). */
export function ramCombine(
  base: Float32Array,
  vectors: RamVectors,
  lambdas: readonly number[],
): Float32Array {
  const { deltas, counts, threshold } = vectors;
  const merged = new Float32Array(base.length);
  deltas.forEach((delta, i) => {
    const lambda = lambdas[i] as number;
    for (let e = 0; e < delta.length; e++) {
      const d = delta[e] as number;
      if (!(Math.abs(d) > threshold)) continue;
      const count = counts[e] as number;
      const term = count === 1 ? fround(d * lambda) : fround(d / count);
      merged[e] = fround((merged[e] as number) + term);
    }
  });
  for (let e = 0; e < merged.length; e++) merged[e] = fround((base[e] as number) + (merged[e] as number));
  return merged;
}

/** The checks and task vectors both RAM variants start from. */
export function prepareRam(name: string, ctx: TensorMergeContext): { base: MergeInput; vectors: RamVectors } {
  const base = requireBase(name, ctx);
  requireInputCount(name, ctx, 1);
  requireOutputSized(name, ctx, [base, ...ctx.inputs]);
  const epsilon = readNumber(RAM_EPSILON_SPEC, ctx.global, siteOf(name, ctx));
  return { base, vectors: ramVectors(base, ctx.inputs, epsilon) };
}

export const ramMethod: MergeMethod = {
  name: "ram",
  prettyName: "Reinforced Agent Merging",
  reference: RAM_REFERENCE,
  summary:
    "keeps each weight change that only one model made, averages the changes several models made to the same weight, and leaves unchanged weights at the base (Reinforced Agent Merging).",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  globalParams: [RAM_EPSILON_SPEC],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const { base, vectors } = prepareRam("ram", ctx);
    return ramCombine(
      base.data,
      vectors,
      ctx.inputs.map(() => 1),
    );
  },
};
