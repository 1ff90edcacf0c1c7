import { subtract } from "../kernels/reference/primitives.js";
import type { MergeInput } from "../types.js";

/** δ = f32(θ − θ₀), elementwise, in a new array (the callers have checked the lengths). */
export function taskVector(model: MergeInput, base: MergeInput): Float32Array {
  const delta = new Float32Array(model.data.length);
  subtract(model.data, base.data, delta);
  return delta;
}
