/**
 * The contract between the planner and the merge methods. A method sees one output tensor at a
 * time, already decoded to f32, with every parameter resolved for that tensor (gradients over
 * layers and name filters applied), and returns the merged tensor in f32.
 */

import type { KernelPlan, PlanRequest } from "./kernels/plan.js";
import type { DareRescale, ParamValue, ResolvedParams } from "./param-values.js";

export type { DareRescale, ParamValue, ResolvedParams } from "./param-values.js";

export interface ParamSpec {
  name: string;
  type: "number" | "boolean" | "string";
  /** Default when neither the model, the slice nor the global parameters set it. */
  default?: ParamValue;
  /** A required per-model parameter must be given for every non-base model. */
  required?: boolean;
  description: string;
  range?: ParamRange;
  /** How to fix an out-of-range value. */
  hint?: string;
}

/** What a method does with tensors whose shapes differ: crop/skip with a warning, or fail. */
export type ShapePolicy = "task-family" | "strict";

export interface ParamRange {
  min?: number;
  max?: number;
  /** Bounds are inclusive unless these say otherwise. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export interface MergeInput {
  /** The model reference as written in the manifest (also the DARE stream's identity). */
  model: string;
  data: Float32Array;
  shape: readonly number[];
  params: ResolvedParams;
}

export interface TensorMergeContext {
  /** Output tensor name. */
  tensorName: string;
  /** The name this tensor has in the source models (differs from tensorName for slices). */
  sourceTensorName: string;
  /** Output shape. For methods with a base this is the base's shape. */
  shape: readonly number[];
  /** The base model's tensor when the method uses a base. */
  base: MergeInput | undefined;
  /** The other models, in manifest order. */
  inputs: MergeInput[];
  global: ResolvedParams;
  /** Manifest seed for random methods (DARE, DELLA). */
  seed: bigint;
  dareRescale: DareRescale;
  warn(message: string): void;
}

export interface MergeMethod {
  /** mergekit's name, e.g. `dare_ties`. */
  name: string;
  /** Display name for summaries and the model card. */
  prettyName: string;
  /** Paper link for the model card. */
  reference?: string;
  /** One sentence for the model card. */
  summary: string;
  shapePolicy: ShapePolicy;
  dropsAtRandom: boolean;
  /** Whether `base_model` is required, optional (nuslerp) or unused (linear, passthrough). */
  base: "required" | "optional" | "none";
  /** Least number of non-base models. */
  minModels: number;
  /** Most number of non-base models (slerp: exactly two models in all). */
  maxModels?: number;
  globalParams: ParamSpec[];
  perModelParams: ParamSpec[];
  merge(ctx: TensorMergeContext): Float32Array;
  /** The fast kernels' plan for one tensor; undefined = only the reference can merge it. */
  kernelPlan?(request: PlanRequest): KernelPlan | undefined;
}

/** Where a tensor sits in the layer stack: `model.layers.{index}.…` of `count` layers. */
export interface LayerPosition {
  index: number;
  count: number;
}
