/**
 * From the executor's per-tensor arguments (the same shape fast-path.ts takes) to a GPU merge
 * request, or undefined when the tensor is outside what the kernels reproduce byte for byte:
 * another method or parameters (kernels/wasm/task-plan.ts decides, for both fast backends), a
 * non-float dtype, a shape or byte length that does not match, or 2^32 − 1 elements or more.
 */
import { kernelRequest, type FastMergeArgs } from "../fast-path.js";
import type { TensorMergeRequest } from "../kernels/wasm/backend.js";

/** The per-tensor arguments, as for tryFastMerge (the runtime is the GPU's). */
export type GpuMergeArgs = Omit<FastMergeArgs, "runtime" | "backend" | "threads">;

/** Tensor indices are u32 in the kernels (and the Philox counter's word 1 stays 0). */
export const MAX_GPU_ELEMENTS = 0xfffffffe;

export function gpuMergeRequest(args: GpuMergeArgs): TensorMergeRequest | undefined {
  const request = kernelRequest(args);
  return request && request.elementOffset + request.count <= MAX_GPU_ELEMENTS ? request : undefined;
}
