/**
 * Reductions (L1 norms, dot products, sums of squares) in one fixed order, so that a chunked or
 * parallel backend reproduces them bit for bit:
 *
 *   the elements are cut into consecutive blocks of REDUCTION_BLOCK (65536) elements, the last one
 *   possibly shorter; within a block the f64 terms are added sequentially in index order starting
 *   from +0; the block partial sums are then added sequentially in block order starting from +0.
 *
 * Each term is computed in f64 from the f32 inputs (|x|, x·y, x·x are exact or correctly rounded
 * in f64). An empty input sums to +0.
 */
import { elementCount } from "../layout.js";

export const REDUCTION_BLOCK = 65536;

/** Σ fn(values[i]) in f64, in the blocked order above. */
export function blockedSumF64(values: Float32Array, fn: (x: number) => number): number {
  let total = 0;
  for (let blockStart = 0; blockStart < values.length; blockStart += REDUCTION_BLOCK) {
    const blockEnd = Math.min(values.length, blockStart + REDUCTION_BLOCK);
    let partial = 0;
    for (let i = blockStart; i < blockEnd; i++) partial += fn(values[i]!);
    total += partial;
  }
  return total;
}

/** Σ |x| in the blocked order (a specialised blockedSumF64(values, Math.abs)). */
export function l1NormF64(values: Float32Array): number {
  let total = 0;
  for (let blockStart = 0; blockStart < values.length; blockStart += REDUCTION_BLOCK) {
    const blockEnd = Math.min(values.length, blockStart + REDUCTION_BLOCK);
    let partial = 0;
    for (let i = blockStart; i < blockEnd; i++) partial += Math.abs(values[i]!);
    total += partial;
  }
  return total;
}

/** Σ a[i]·b[i] in the blocked order; each product is taken in f64. */
export function dotF64(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`dotF64: lengths differ (${a.length} vs ${b.length})`);
  let total = 0;
  for (let blockStart = 0; blockStart < a.length; blockStart += REDUCTION_BLOCK) {
    const blockEnd = Math.min(a.length, blockStart + REDUCTION_BLOCK);
    let partial = 0;
    for (let i = blockStart; i < blockEnd; i++) partial += a[i]! * b[i]!;
    total += partial;
  }
  return total;
}

/** Σ x² in the blocked order (the square of the L2 norm). */
export function sumSquaresF64(values: Float32Array): number {
  return dotF64(values, values);
}

/** The names the SLERP family uses for the same two reductions. */
export const blockedDot = dotF64;
export const blockedSumSquares = sumSquaresF64;

/*
 * Strided forms: blocks count elements of the (possibly strided) vector, not array positions, so a
 * column of a matrix reduces exactly like the same values laid out contiguously.
 */

/** Where a vector's elements sit in a flat array: `offset + i * stride` for `i < length`. */
export interface VectorView {
  offset: number;
  stride: number;
  length: number;
}

/** Σ a[k]·b[k] over the positions `k` of `view` (the same positions in both arrays). */
export function blockedDotStrided(a: Float32Array, b: Float32Array, view: VectorView): number {
  const { offset, stride, length } = view;
  let total = 0;
  for (let blockStart = 0; blockStart < length; blockStart += REDUCTION_BLOCK) {
    const blockEnd = Math.min(length, blockStart + REDUCTION_BLOCK);
    let partial = 0;
    for (let i = blockStart, k = offset + blockStart * stride; i < blockEnd; i++, k += stride) {
      partial += (a[k] as number) * (b[k] as number);
    }
    total += partial;
  }
  return total;
}

/** Σ a·b, Σ a² and Σ b² over `view`, in one pass; each sum blocked exactly as the single ones. */
export function blockedPairSums(
  a: Float32Array,
  b: Float32Array,
  view: VectorView,
): { dot: number; squaresA: number; squaresB: number } {
  const { offset, stride, length } = view;
  let dot = 0;
  let squaresA = 0;
  let squaresB = 0;
  for (let blockStart = 0; blockStart < length; blockStart += REDUCTION_BLOCK) {
    const blockEnd = Math.min(length, blockStart + REDUCTION_BLOCK);
    let partialDot = 0;
    let partialA = 0;
    let partialB = 0;
    for (let i = blockStart, k = offset + blockStart * stride; i < blockEnd; i++, k += stride) {
      const x = a[k] as number;
      const y = b[k] as number;
      partialDot += x * y;
      partialA += x * x;
      partialB += y * y;
    }
    dot += partialDot;
    squaresA += partialA;
    squaresB += partialB;
  }
  return { dot, squaresA, squaresB };
}

/** Σ a[k]² over the positions `k` of `view`. */
export function blockedSumSquaresStrided(a: Float32Array, view: VectorView): number {
  return blockedDotStrided(a, a, view);
}

/**
 * The vectors a tensor of `shape` splits into: `"all"`, one vector of every element (flattened);
 * `"last"`, one per index of the leading axes, running along the last axis (rows of a matrix);
 * `"first"`, one per index of the trailing axes, running along the first axis (columns of a
 * matrix). Tensors of rank 0 or 1 are always a single vector.
 */
export function vectorViews(shape: readonly number[], along: "all" | "last" | "first"): VectorView[] {
  const count = elementCount(shape);
  if (along === "all" || shape.length <= 1 || count === 0) return [{ offset: 0, stride: 1, length: count }];
  if (along === "last") {
    const length = shape[shape.length - 1] as number;
    return Array.from({ length: count / length }, (_, row) => ({ offset: row * length, stride: 1, length }));
  }
  const length = shape[0] as number;
  const stride = count / length;
  return Array.from({ length: stride }, (_, column) => ({ offset: column, stride, length }));
}
