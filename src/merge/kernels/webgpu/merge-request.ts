/**
 * From the executor's per-tensor arguments to a GPU merge request, or undefined when the tensor is
 * outside what the kernels reproduce byte for byte: whatever request.ts's kernelRequest declines
 * (another method or parameters, a non-float dtype, a shape or byte length that does not match),
 * or 2^32 − 1 elements or more.
 */
import { kernelRequest, type TensorMergeArgs, type TensorMergeRequest } from "../request.js";

/** Tensor indices are u32 in the kernels (and the Philox counter's word 1 stays 0). */
export const MAX_GPU_ELEMENTS = 0xfffffffe;

export function gpuMergeRequest(args: TensorMergeArgs): TensorMergeRequest | undefined {
  const request = kernelRequest(args);
  return request && (request.elementOffset ?? 0) + request.count <= MAX_GPU_ELEMENTS ? request : undefined;
}
