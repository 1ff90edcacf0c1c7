/**
 * RAM+ with tensor-local ratios (`ramplus_tl`, mergekit's `merge_methods/ram.py`): RAM (ram.ts),
 * but each model's unique changes are scaled up to make up for the dilution of its shared ones.
 * Per model i and tensor, with the counts of ram.ts:
 *   sharedᵢ = #elements where model i is active and c > 1;  uniqueᵢ = #elements where c = 1 and i is active;
 *   ρᵢ = f32(f32(sharedᵢ) / dᵢ), dᵢ = f32(uniqueᵢ) or f32(epsilon) when uniqueᵢ = 0;
 *   λᵢ = f32(1 + f32(f32(r) · clamp(ρᵢ, 0, f32(alpha))));
 * then ram's combination with these λᵢ. mergekit computes the ratio per tensor (hence "tensor
 * local"); the paper's RAM+ takes it over the whole model.
 */

import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { readNumber, siteOf } from "./param-reader.js";
import { prepareRam, RAM_EPSILON_SPEC, RAM_REFERENCE, ramCombine, type RamVectors } from "./ram.js";

const fround = Math.fround;

/** λᵢ for every model (f32 values), from the active counts (see the module comment). */
export function ramplusLambdas(vectors: RamVectors, epsilon: number, r: number, alpha: number): number[] {
  const { deltas, counts, threshold } = vectors;
  const cap = fround(alpha);
  const strength = fround(r);
  return deltas.map((delta) => {
    let shared = 0;
    let unique = 0;
    for (let e = 0; e < delta.length; e++) {
      if (!(Math.abs(delta[e] as number) > threshold)) continue;
      if (counts[e] === 1) unique++;
      else shared++;
    }
    const divisor = unique >= 1 ? fround(unique) : fround(epsilon);
    const rho = fround(fround(shared) / divisor);
    const clamped = rho < 0 ? 0 : rho > cap ? cap : rho;
    return fround(1 + fround(strength * clamped));
  });
}

const R: ParamSpec = {
  name: "r",
  type: "number",
  default: 0.1,
  description: "strength of the rescaling of unique changes",
  range: { min: 0 },
  hint: "r scales the amplification λ = 1 + r·clip(ρ, 0, alpha); 0 gives plain ram.",
};

const ALPHA: ParamSpec = {
  name: "alpha",
  type: "number",
  default: 0.2,
  description: "upper bound of the shared/unique ratio ρ",
  range: { min: 0 },
  hint: "alpha caps the ratio ρ of shared to unique changes; mergekit's default is 0.2.",
};

export const ramplusTlMethod: MergeMethod = {
  name: "ramplus_tl",
  prettyName: "Reinforced Agent Merging Plus (Tensor-Local)",
  reference: RAM_REFERENCE,
  summary:
    "merges like RAM (unique weight changes kept, shared ones averaged) and scales each model's unique changes up by a factor that grows with how many of its changes it shares, per tensor (RAM+).",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "required",
  minModels: 1,
  globalParams: [R, ALPHA, RAM_EPSILON_SPEC],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    const { base, vectors } = prepareRam("ramplus_tl", ctx);
    const site = siteOf("ramplus_tl", ctx);
    const epsilon = readNumber(RAM_EPSILON_SPEC, ctx.global, site);
    const r = readNumber(R, ctx.global, site);
    const alpha = readNumber(ALPHA, ctx.global, site);
    return ramCombine(base.data, vectors, ramplusLambdas(vectors, epsilon, r, alpha));
  },
};
