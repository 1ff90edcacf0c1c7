/**
 * The parts of SCE (methods/sce.ts) that its fast kernels reproduce and share with the reference:
 * the per-element variance that `select` ranks, how many positions it keeps, and the model weights
 * from the task vectors' sums of squares. The wasm kernels compute the variances and the blocked
 * sums; the host turns them into k and the weights with these same functions.
 */
const fround = Math.fround;

/** Below this |Σ mᵢ| mergekit gives every model the same weight. */
export const SCE_WEIGHT_SUM_EPSILON = 1e-6;

/**
 * Per-element population variance across the models: μ = Σᵢδᵢ / N and Σᵢ(δᵢ − μ)² / N in f64,
 * models in order from +0, each variance rounded to f32 once.
 */
export function taskVectorVariance(deltas: readonly Float32Array[]): Float32Array {
  const n = deltas[0]?.length ?? 0;
  const variance = new Float32Array(n);
  const count = deltas.length;
  for (let e = 0; e < n; e++) {
    let sum = 0;
    for (const delta of deltas) sum += delta[e] as number;
    const mean = sum / count;
    let squares = 0;
    for (const delta of deltas) {
      const d = (delta[e] as number) - mean;
      squares += d * d;
    }
    variance[e] = squares / count;
  }
  return variance;
}

/** The number of positions `select` keeps: trunc(f32(f32(nonzero) · f32(topk))), as mergekit's f32 product. */
export function sceSelectCount(nonzero: number, topk: number): number {
  return Math.trunc(fround(fround(nonzero) * fround(topk)));
}

/**
 * Each model's f32 weight from Σδᵢ² (blockedSumSquares of its selected task vector) over `count`
 * elements: mᵢ = Σδᵢ² / count, wᵢ = f32(mᵢ / Σⱼmⱼ), or f32(1 / N) each when |Σⱼmⱼ| < 1e-6.
 * A NaN weight (a task vector with ±Inf or NaN) is the canonical quiet NaN 0x7FC00000: its payload
 * would come from sums where two NaNs meet, whose result V8 picks differently in different
 * compilations of the same loop. With every NaN in the mix canonical, SCE's output bytes are the
 * same wherever it runs.
 */
export function sceWeightsFromSums(sumsOfSquares: readonly number[], count: number): number[] {
  const means = sumsOfSquares.map((sum) => sum / count);
  const total = means.reduce((sum, mean) => sum + mean, 0);
  if (Math.abs(total) < SCE_WEIGHT_SUM_EPSILON) return means.map(() => fround(1 / means.length));
  return means.map((mean) => {
    const weight = fround(mean / total);
    return weight === weight ? weight : NaN;
  });
}
