/**
 * The task family's kernel plan: the order of operations of task-family.ts reduced to flags and
 * f32 scalars for the fast backends. Anything the kernels do not reproduce byte for byte — DELLA's
 * row-ranked MAGPRUNE, count consensus, whole-tensor L1 rescaling, parameters the reference would
 * reject — yields undefined, and the reference merges the tensor (and reports any error).
 */
import { breadcrumbsCounts } from "../kernels/reference/magnitude-select.js";
import type { ModelSparsity, ModelTerm, PlanRequest, TaskPlan } from "../kernels/plan.js";
import { dareStream, keepThreshold } from "../rng/dare-stream.js";
import type { ParamSpec, ResolvedParams } from "../types.js";
import { validBoolean, validNumber } from "./param-reader.js";
import type { TaskFamilyDefinition, TaskFamilySpecs } from "./task-family-params.js";
import { plainDivisor } from "./weight-sum.js";

const f32 = Math.fround;

type KernelPlan = (request: PlanRequest) => TaskPlan | undefined;

/** The method's kernel plan, or undefined when the kernels cannot run the method at all. */
export function taskFamilyKernelPlan(
  definition: TaskFamilyDefinition,
  specs: TaskFamilySpecs,
): KernelPlan | undefined {
  if (definition.sparsification === "della_magprune" || definition.consensus === "count") return undefined;
  return (request) => planTaskFamily(definition, specs, request);
}

/** A value set for the tensor, else the spec's default (as readNumber/readBoolean take it). */
function settingOf(spec: ParamSpec, params: ResolvedParams) {
  return params[spec.name] ?? spec.default;
}

function planTaskFamily(
  definition: TaskFamilyDefinition,
  specs: TaskFamilySpecs,
  request: PlanRequest,
): TaskPlan | undefined {
  if (!request.hasBase) return undefined;
  const global = request.global;
  const normalize = validBoolean(settingOf(specs.normalize, global));
  const rescale = validBoolean(settingOf(specs.rescale, global));
  const lambda = validNumber(specs.lambda, settingOf(specs.lambda, global));
  const int8Mask = validBoolean(settingOf(specs.int8Mask, global));
  if (normalize === undefined || rescale === undefined || lambda === undefined || int8Mask === undefined) {
    return undefined;
  }
  const terms: ModelTerm[] = [];
  for (const { model, params } of request.models) {
    const weight = validNumber(specs.weight, settingOf(specs.weight, params));
    const sparsity = sparsityOf(definition, specs, params, rescale, model, request);
    if (weight === undefined || sparsity === undefined) return undefined;
    terms.push({ weight: f32(weight), sparsity });
  }
  return {
    kind: "task",
    hasBase: true,
    consensus: definition.consensus !== undefined,
    normalize,
    lambda: f32(lambda),
    plainDivisor: plainDivisor(terms.map((t) => t.weight)),
    terms,
  };
}

/** sparsify() of kernels/sparsify.ts for one model, or undefined when the kernels cannot do it. */
function sparsityOf(
  definition: TaskFamilyDefinition,
  specs: TaskFamilySpecs,
  params: ResolvedParams,
  rescale: boolean,
  model: string,
  request: PlanRequest,
): ModelSparsity | undefined {
  // Checked even where unused (task_arithmetic's density), as the reference checks them.
  const density = validNumber(specs.density, settingOf(specs.density, params));
  if (density === undefined) return undefined;
  const gamma = specs.gamma ? validNumber(specs.gamma, settingOf(specs.gamma, params)) : 0;
  if (gamma === undefined) return undefined;
  const sparsification = definition.sparsification;
  if (!sparsification || density >= 1) return { mode: "dense" };
  if (sparsification === "della_magprune") return undefined; // no kernel (taskFamilyKernelPlan)
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
