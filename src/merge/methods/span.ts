/**
 * Vectors in the span of a method's inputs. multislerp and karcher only ever form linear
 * combinations of their input tensors, so they work on the coefficients: one pass computes the
 * Gram matrix of the inputs (every pairwise dot product, f64 in the blocked order of
 * reductions.ts), the method's geometry runs on N×N numbers on the host, and one pass forms the
 * output Σ f32(cᵢ)·vᵢ in f32. The tensors are read twice, whatever the number of iterations.
 */

import { blockedPairSums } from "../kernels/reference/reductions.js";

const fround = Math.fround;

/** G[i·N + j] = vᵢ · vⱼ (symmetric; the diagonal holds the squared norms). */
export function gramMatrix(vectors: readonly Float32Array[]): Float64Array {
  const count = vectors.length;
  const gram = new Float64Array(count * count);
  for (let i = 0; i < count; i++) {
    for (let j = i; j < count; j++) {
      const view = { offset: 0, stride: 1, length: vectors[i]!.length };
      const sums = blockedPairSums(vectors[i]!, vectors[j]!, view);
      gram[i * count + j] = sums.dot;
      gram[j * count + i] = sums.dot;
      if (i === j) gram[i * count + i] = sums.squaresA;
    }
  }
  return gram;
}

/** xᵀ G y for coefficient vectors x, y (f64, i then j ascending). */
export function gramProduct(gram: Float64Array, x: readonly number[], y: readonly number[]): number {
  const count = x.length;
  let total = 0;
  for (let i = 0; i < count; i++) {
    let row = 0;
    for (let j = 0; j < count; j++) row += gram[i * count + j]! * (y[j] as number);
    total += (x[i] as number) * row;
  }
  return total;
}

/** (G y)ᵢ: the dot product of input i with the combination y. */
export function gramRow(gram: Float64Array, i: number, y: readonly number[]): number {
  const count = y.length;
  let total = 0;
  for (let j = 0; j < count; j++) total += gram[i * count + j]! * (y[j] as number);
  return total;
}

/** out[e] = Σᵢ f32(f32(cᵢ)·vᵢ[e]), summed in f32 in input order from +0; inputs with cᵢ = 0 are skipped. */
export function combine(vectors: readonly Float32Array[], coefficients: readonly number[]): Float32Array {
  const out = new Float32Array(vectors[0]?.length ?? 0);
  vectors.forEach((vector, i) => {
    const c = fround(coefficients[i] as number);
    if (c === 0) return;
    for (let e = 0; e < out.length; e++)
      out[e] = fround((out[e] as number) + fround(c * (vector[e] as number)));
  });
  return out;
}
