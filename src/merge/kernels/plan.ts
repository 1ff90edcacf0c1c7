/**
 * What the fast backends (WebAssembly, WebGPU) are asked to compute for one tensor: a method's
 * order of operations reduced to flags and f32 scalars. Each method that the kernels can run
 * builds this plan itself (`MergeMethod.kernelPlan`: methods/task-family-plan.ts, linear.ts,
 * nearswap.ts, sce.ts); undefined means the reference merges the tensor, which also produces the
 * right error message. `kind` says which kernels run it: the task family's fused kernel (task and
 * linear plans), NearSwap's elementwise one, or SCE's whole-tensor passes.
 */
import type { DareRescale, ResolvedParams } from "../param-values.js";
import type { U32Pair } from "../rng/dare-stream.js";

/** The part of a merge method the plan needs (a MergeMethod is one). */
export interface KernelPlanner {
  kernelPlan?(request: PlanRequest): KernelPlan | undefined;
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
  kind: "task";
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

/** NearSwap (methods/nearswap.ts): base and one model, elementwise. */
export interface NearswapPlan {
  kind: "nearswap";
  /** f32(t). */
  t: number;
  /** f32 of the floor of |θ₀ − θ₁| (mergekit's 1e-6). */
  minDistance: number;
}

/**
 * SCE (methods/sce.ts): a base and one or more models; whole-tensor passes (the variance top-k,
 * the sums of squares that weight the models) before the elementwise sign election and mix.
 */
export interface ScePlan {
  kind: "sce";
  /** select_topk as resolved (not rounded): ≥ 1 selects every position, ≤ 0 none. */
  selectTopK: number;
  /** f32 of the floor of the agreeing weights' sum (mergekit's 1e-6). */
  divisorFloor: number;
}

export type KernelPlan = TaskPlan | NearswapPlan | ScePlan;

/** Whether every output element depends only on the same element of the inputs (pieces allowed). */
export function isElementwise(plan: KernelPlan): boolean {
  if (plan.kind === "nearswap") return true;
  if (plan.kind === "sce") return false;
  return !plan.terms.some((term) => term.sparsity.mode === "magnitude");
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
export function planMerge(request: PlanRequest): KernelPlan | undefined {
  if (request.models.length === 0 || request.count === 0) return undefined;
  return request.method.kernelPlan?.(request);
}
