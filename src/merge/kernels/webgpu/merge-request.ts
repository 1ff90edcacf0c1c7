/**
 * From the executor's per-tensor arguments to a GPU merge request, or undefined when the tensor is
 * outside what the kernels reproduce byte for byte: whatever request.ts's kernelRequest declines
 * (another method or parameters, a non-float dtype, a shape or byte length that does not match),
 * SCE's plans, or 2^32 − 1 elements or more.
 */
import type { NearswapPlan, TaskPlan } from "../plan.js";
import { kernelRequest, type TensorMergeArgs, type TensorMergeRequest } from "../request.js";

/** Tensor indices are u32 in the kernels (and the Philox counter's word 1 stays 0). */
export const MAX_GPU_ELEMENTS = 0xfffffffe;

/** A request whose plan the GPU kernels run: the task family's, linear's or NearSwap's. */
export type GpuMergeRequest = TensorMergeRequest & { plan: TaskPlan | NearswapPlan };

export function gpuMergeRequest(args: TensorMergeArgs): GpuMergeRequest | undefined {
  const request = kernelRequest(args);
  return request && gpuRuns(request) ? request : undefined;
}

/**
 * Whether the GPU takes a request: within u32 indices, and not SCE, whose variances and sums of
 * squares are f64 arithmetic that WGSL does not have (wasm runs it).
 */
export function gpuRuns(request: TensorMergeRequest): request is GpuMergeRequest {
  return request.plan.kind !== "sce" && (request.elementOffset ?? 0) + request.count <= MAX_GPU_ELEMENTS;
}
