/** Layout operations: exact copies, no arithmetic. */

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Whether a tensor of `shape` covers `target` in every dimension (same rank, each dim ≥). */
export function covers(shape: readonly number[], target: readonly number[]): boolean {
  return shape.length === target.length && shape.every((dim, axis) => dim >= target[axis]!);
}

/**
 * The leading sub-block of a row-major tensor: element (i₀, …, iₖ) of the result is element
 * (i₀, …, iₖ) of the input, for every index below `target`. Requires covers(shape, target).
 */
export function cropLeading(
  data: Float32Array,
  shape: readonly number[],
  target: readonly number[],
): Float32Array {
  if (!covers(shape, target)) {
    throw new RangeError(`cropLeading: [${shape.join(", ")}] does not cover [${target.join(", ")}]`);
  }
  const out = new Float32Array(elementCount(target));
  if (out.length === 0) return out;
  const rank = target.length;
  if (rank === 0) {
    out[0] = data[0]!;
    return out;
  }
  const rowLength = target[rank - 1]!;
  const strides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) strides[axis] = strides[axis + 1]! * shape[axis + 1]!;
  const index = new Array<number>(rank).fill(0);
  for (let written = 0; written < out.length; written += rowLength) {
    let offset = 0;
    for (let axis = 0; axis < rank - 1; axis++) offset += index[axis]! * strides[axis]!;
    out.set(data.subarray(offset, offset + rowLength), written);
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++index[axis]! < target[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}
