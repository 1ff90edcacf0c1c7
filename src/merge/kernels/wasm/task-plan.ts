/**
 * What the WebAssembly backend can merge, and the per-tensor constants it needs: the method's
 * order of operations (src/merge/methods/task-family.ts, linear.ts) reduced to flags and f32
 * scalars. Anything else — another method, parameters the reference would reject, whole-tensor
 * L1 rescaling, shape mismatches — yields undefined, and the caller uses the reference, which
 * also produces the right error message.
 */
import { dareStream, keepThreshold, type U32Pair } from "../../rng/dare-stream.js";
import { breadcrumbsCounts } from "../reference/magnitude-select.js";
import type { DareRescale, MergeMethod, ParamValue, ResolvedParams } from "../../types.js";

const f32 = Math.fround;
/** Below this |Σ wᵢ| the plain normalisation divides by 1 (task-family.ts). */
const WEIGHT_SUM_EPSILON = 1e-8;

type Sparsification = "magnitude" | "random" | "magnitude_outliers";

interface FamilyShape {
  sparsification?: Sparsification;
  consensus: boolean;
}

/** The task-family methods the kernels run, as task-family.ts defines them. */
const TASK_FAMILY: Readonly<Record<string, FamilyShape>> = {
  task_arithmetic: { consensus: false },
  ties: { sparsification: "magnitude", consensus: true },
  dare_linear: { sparsification: "random", consensus: false },
  dare_ties: { sparsification: "random", consensus: true },
  breadcrumbs: { sparsification: "magnitude_outliers", consensus: false },
  breadcrumbs_ties: { sparsification: "magnitude_outliers", consensus: true },
};

export const ACCELERATED_METHODS: readonly string[] = [...Object.keys(TASK_FAMILY), "linear"];

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
  method: MergeMethod;
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

export function planMerge(request: PlanRequest): TaskPlan | undefined {
  if (request.models.length === 0 || request.count === 0) return undefined;
  if (request.method.name === "linear") return planLinear(request);
  const family = TASK_FAMILY[request.method.name];
  return family ? planTaskFamily(family, request) : undefined;
}

function planLinear(request: PlanRequest): TaskPlan | undefined {
  if (request.hasBase) return undefined;
  const normalize = request.global.normalize;
  if (typeof normalize !== "boolean") return undefined;
  const weights = request.models.map((m) => finite(m.params.weight));
  if (weights.some((w) => w === undefined)) return undefined;
  const total = f32Sum(weights as number[]);
  if (normalize && total === 0) return undefined;
  return {
    hasBase: false,
    consensus: false,
    normalize,
    lambda: 1,
    plainDivisor: total,
    terms: weights.map((w) => ({ weight: f32(w!), sparsity: { mode: "dense" } })),
  };
}

function planTaskFamily(family: FamilyShape, request: PlanRequest): TaskPlan | undefined {
  if (!request.hasBase) return undefined;
  const global = request.global;
  const normalize = booleanOr(global.normalize, defaultOf(request.method, "normalize"));
  const rescale = booleanOr(global.rescale, defaultOf(request.method, "rescale"));
  const lambda = finite(global.lambda ?? 1);
  const int8Mask = booleanOr(global.int8_mask, false);
  if (normalize === undefined || rescale === undefined || lambda === undefined || int8Mask === undefined) {
    return undefined;
  }
  const terms: ModelTerm[] = [];
  for (const { model, params } of request.models) {
    const weight = finite(params.weight);
    const sparsity = sparsityOf(family.sparsification, params, rescale, model, request);
    if (weight === undefined || sparsity === undefined) return undefined;
    terms.push({ weight: f32(weight), sparsity });
  }
  const weightSum = f32Sum(terms.map((t) => t.weight));
  return {
    hasBase: true,
    consensus: family.consensus,
    normalize,
    lambda: f32(lambda),
    plainDivisor: Math.abs(weightSum) < WEIGHT_SUM_EPSILON ? 1 : weightSum,
    terms,
  };
}

/** sparsify() of kernels/sparsify.ts for one model, or undefined when the kernels cannot do it. */
function sparsityOf(
  sparsification: Sparsification | undefined,
  params: ResolvedParams,
  rescale: boolean,
  model: string,
  request: PlanRequest,
): ModelSparsity | undefined {
  if (!sparsification) return { mode: "dense" };
  const density = finite(params.density ?? 1);
  if (density === undefined || density < 0 || density > 1) return undefined;
  const gamma = sparsification === "magnitude_outliers" ? finite(params.gamma ?? 0.01) : 0;
  if (gamma === undefined || gamma < 0 || gamma > 1) return undefined;
  if (density >= 1) return { mode: "dense" };
  const n = request.count;
  if (sparsification === "random") {
    if (rescale && request.dareRescale !== "paper") return undefined; // L1 norm matching
    const { key, stream } = dareStream(request.seed, model, request.tensorName);
    return { mode: "dare", threshold: keepThreshold(density), rescale, divisor: f32(density), key, stream };
  }
  if (rescale) return undefined; // magnitude methods rescale by L1 norms: a whole-tensor reduction
  if (sparsification === "magnitude") return { mode: "magnitude", from: 0, to: Math.floor(density * n) };
  const { top, bottom } = breadcrumbsCounts(n, density, gamma);
  return { mode: "magnitude", from: top, to: n - bottom };
}

function defaultOf(method: MergeMethod, name: string): ParamValue | undefined {
  return method.globalParams.find((spec) => spec.name === name)?.default;
}

function finite(value: ParamValue | undefined): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function booleanOr(value: ParamValue | undefined, fallback: ParamValue | undefined): boolean | undefined {
  const chosen = value ?? fallback;
  return typeof chosen === "boolean" ? chosen : undefined;
}

/** Σ f32(wᵢ) in f32, in model order from +0. */
function f32Sum(weights: readonly number[]): number {
  let sum = 0;
  for (const weight of weights) sum = f32(sum + f32(weight));
  return sum;
}
