/**
 * The sum of the model weights, as the reference and the kernel plans both compute it: in f32, in
 * model order from +0, so that a normalised merge divides by the same f32 value on every backend.
 */

/** Below this |Σ wᵢ| the plain (no-consensus) normalisation divides by 1 (mergekit's threshold). */
export const WEIGHT_SUM_EPSILON = 1e-8;

/** Σ f32(wᵢ), summed in f32 in model order. */
export function f32WeightSum(weights: readonly number[]): number {
  let sum = 0;
  for (const weight of weights) sum = Math.fround(sum + Math.fround(weight));
  return sum;
}

/** The task family's plain normalisation divisor: Σ f32(wᵢ), or 1 when |Σ| < 1e-8. */
export function plainDivisor(weights: readonly number[]): number {
  const sum = f32WeightSum(weights);
  return Math.abs(sum) < WEIGHT_SUM_EPSILON ? 1 : sum;
}
