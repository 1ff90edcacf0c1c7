/**
 * The LoRA update in hubmerge's numerics (docs/lora.md): f32, `Math.fround` after every
 * operation, no fused multiply-add, and one fixed order — for each output element, the rank
 * products B[o,k]·A[k,i] are summed for k = 0 … r−1 in order, the sum is scaled, then added to W.
 * Any implementation that follows this order gets the same bytes.
 */
const f = Math.fround;

/** W `[out, in]` + scale·B·A, with A `[r, in]` and B `[out, r]`; a fresh array. */
export function applyLinearLora(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  shape: { out: number; in: number; rank: number },
  scale: number,
): Float32Array {
  const { out, rank } = shape;
  const cols = shape.in;
  const result = new Float32Array(w.length);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < cols; i++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum = f(sum + f(b[o * rank + k]! * a[k * cols + i]!));
      result[o * cols + i] = f(w[o * cols + i]! + f(scale * sum));
    }
  }
  return result;
}

/** W `[rows, dim]` + scale·(B·A)ᵀ, with A `[r, rows]` and B `[dim, r]` (PEFT's embedding LoRA). */
export function applyEmbeddingLora(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  shape: { rows: number; dim: number; rank: number },
  scale: number,
): Float32Array {
  const { rows, dim, rank } = shape;
  const result = new Float32Array(w.length);
  for (let v = 0; v < rows; v++) {
    for (let d = 0; d < dim; d++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum = f(sum + f(b[d * rank + k]! * a[k * rows + v]!));
      result[v * dim + d] = f(w[v * dim + d]! + f(scale * sum));
    }
  }
  return result;
}
