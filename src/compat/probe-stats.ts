/**
 * How far a sample of a model's weights sits from the same sample of the reference's: cosine,
 * relative delta norm and the size of the delta values. f64 accumulation; non-finite pairs are
 * left out (a NaN in one weight should not hide the relation of all the others).
 */
import { kthLargestMagnitude } from "../merge/kernels/reference/magnitude-select.js";

export interface SampleComparison {
  elements: number;
  cosine: number;
  relativeDelta: number;
  maxAbsDelta: number;
  p99AbsDelta: number;
}

export function compareSamples(base: Float32Array, tuned: Float32Array): SampleComparison {
  if (base.length !== tuned.length) {
    throw new RangeError(`compareSamples: ${base.length} vs ${tuned.length} elements`);
  }
  const absDelta = new Float32Array(base.length);
  let dot = 0;
  let baseSquares = 0;
  let tunedSquares = 0;
  let deltaSquares = 0;
  let maxAbsDelta = 0;
  let n = 0;
  for (let i = 0; i < base.length; i++) {
    const a = base[i]!;
    const b = tuned[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    const d = b - a;
    dot += a * b;
    baseSquares += a * a;
    tunedSquares += b * b;
    deltaSquares += d * d;
    const abs = Math.abs(d);
    if (abs > maxAbsDelta) maxAbsDelta = abs;
    absDelta[n++] = abs;
  }
  return {
    elements: n,
    cosine: cosineOf(dot, baseSquares, tunedSquares),
    relativeDelta:
      baseSquares === 0 ? (deltaSquares === 0 ? 0 : Infinity) : Math.sqrt(deltaSquares / baseSquares),
    maxAbsDelta,
    p99AbsDelta: percentile(absDelta.subarray(0, n), 0.99),
  };
}

function cosineOf(dot: number, aSquares: number, bSquares: number): number {
  if (aSquares === 0 && bSquares === 0) return 1;
  if (aSquares === 0 || bSquares === 0) return 0;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(aSquares * bSquares)));
}

/**
 * The q-quantile (nearest rank) of non-negative values, 0 for none: the element of ascending
 * rank ⌈q·n⌉, found by radix select (a probe samples millions of deltas; sorting them was the
 * slowest step of a merge's compatibility check).
 */
export function percentile(values: Float32Array, q: number): number {
  if (values.length === 0) return 0;
  const rank = Math.min(values.length, Math.max(1, Math.ceil(q * values.length)));
  return kthLargestMagnitude(values, values.length - rank + 1);
}

/** The median of the finite values, or NaN when there are none. */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}
