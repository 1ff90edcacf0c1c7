/**
 * What the fast backends (WebAssembly, WebGPU) are asked to compute for one tensor: a method's
 * order of operations reduced to flags and f32 scalars. Each method that the kernels can run
 * builds this plan itself (`MergeMethod.kernelPlan`: methods/task-family-plan.ts, linear.ts);
 * undefined means the reference merges the tensor, which also produces the right error message.
 */
import type { DareRescale, ResolvedParams } from "../param-values.js";
import type { U32Pair } from "../rng/dare-stream.js";

/** The part of a merge method the plan needs (a MergeMethod is one). */
export interface KernelPlanner {
  kernelPlan?(request: PlanRequest): TaskPlan | undefined;
}

/** One model's part of the merge. */
export type ModelSparsity =
  | { mode: "dense" }
  | { mode: "dare"; threshold: number; rescale: boolean; divisor: number; key: U32Pair; stream: U32Pair }
  /** Keep the elements whose rank in the "larger |δ| first" order lies in [from, to). */
  | { mode: "magnitude"; from: number; to: number };

export interface ModelTerm {
  /** f32(wᵢ). */
  weight: number;
  sparsity: ModelSparsity;
}

export interface TaskPlan {
  /** Task vectors θᵢ − θ₀ and output θ₀ + λ·M (task family), or plain weighted sums (linear). */
  hasBase: boolean;
  consensus: boolean;
  normalize: boolean;
  /** f32(λ). */
  lambda: number;
  /** Divisor of the plain (no consensus) normalisation, f32. */
  plainDivisor: number;
  terms: ModelTerm[];
}

export interface PlanRequest {
  method: KernelPlanner;
  global: ResolvedParams;
  /** The non-base models in manifest order. */
  models: readonly { model: string; params: ResolvedParams }[];
  hasBase: boolean;
  /** Elements of the output tensor. */
  count: number;
  seed: bigint;
  dareRescale: DareRescale;
  tensorName: string;
}

/** The method's kernel plan for this tensor; never one for no models or an empty tensor. */
export function planMerge(request: PlanRequest): TaskPlan | undefined {
  if (request.models.length === 0 || request.count === 0) return undefined;
  return request.method.kernelPlan?.(request);
}
