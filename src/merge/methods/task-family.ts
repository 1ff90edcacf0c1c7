/**
 * The task-arithmetic family (task_arithmetic, ties, dare_*, breadcrumbs*, della*): one
 * generalized algorithm, as in mergekit's generalized_task_arithmetic, parameterised by how task
 * vectors are sparsified and whether signs must agree. Order of operations (docs/methods.md):
 *
 * 1. δᵢ = f32(θᵢ − θ₀) per non-base model, in manifest order (shape mismatches skipped,
 *    embeddings cropped to the base's shape, both with a warning);
 * 2. sparsify each δᵢ with its density (magnitude, random, magnitude_outliers, della_magprune);
 * 3. wᵢδᵢ = f32(f32(wᵢ) · δᵢ);
 * 4. with consensus: majority sign s, M = Σ agreeing wᵢδᵢ, D = Σ agreeing f32(wᵢ) (0 → 1);
 *    without: M = Σ wᵢδᵢ, D = Σ f32(wᵢ) (|D| < 1e-8 → 1); sums in model order from +0;
 * 5. if normalize: M = f32(M / D);
 * 6. out = f32(θ₀ + f32(f32(λ) · M)).
 */
import { HubmergeError } from "../../errors.js";
import type {
  MergeInput,
  MergeMethod,
  ParamSpec,
  ParamValue,
  ResolvedParams,
  TensorMergeContext,
} from "../types.js";
import { covers, cropLeading, elementCount } from "../kernels/layout.js";
import {
  accumulate,
  addScaled,
  agreeingSum,
  divideInPlace,
  scaleInPlace,
  signElection,
  subtract,
} from "../kernels/reference.js";
import { sparsify, type Sparsification } from "../kernels/sparsify.js";

export type { Sparsification } from "../kernels/sparsify.js";
export type Consensus = "sum" | "count";

export interface TaskFamilyDefinition {
  name: string;
  prettyName: string;
  reference: string;
  sparsification?: Sparsification;
  consensus?: Consensus;
  defaultNormalize: boolean;
  defaultRescale: boolean;
}

/** Substrings that mark a tensor as an embedding (or tied output) matrix, cropped rather than skipped. */
export const EMBEDDING_MARKERS = ["embed_tokens", "lm_head", "wte", "word_embeddings", "embed_out"] as const;

/** One model's task vector for the tensor being merged, with its resolved parameters. */
interface TaskVector {
  model: string;
  delta: Float32Array;
  weight: number;
  density: number;
  gamma: number;
  epsilon: number;
}

type Where = { model?: string; tensor: string };

/** Below this |Σ wᵢ| the plain (no-consensus) normalisation divides by 1 (mergekit's threshold). */
const WEIGHT_SUM_EPSILON = 1e-8;

export function isEmbeddingTensor(name: string): boolean {
  return EMBEDDING_MARKERS.some((marker) => name.includes(marker));
}

export function defineTaskFamilyMethod(definition: TaskFamilyDefinition): MergeMethod {
  return {
    name: definition.name,
    prettyName: definition.prettyName,
    reference: definition.reference,
    base: "required",
    minModels: 1,
    globalParams: globalParamSpecs(definition),
    perModelParams: perModelParamSpecs(definition),
    merge: (ctx) => mergeTaskFamily(definition, ctx),
  };
}

function globalParamSpecs(definition: TaskFamilyDefinition): ParamSpec[] {
  return [
    {
      name: "int8_mask",
      type: "boolean",
      default: false,
      description: "Accepted for mergekit compatibility (a memory saving there); no effect on the result.",
    },
    {
      name: "normalize",
      type: "boolean",
      default: definition.defaultNormalize,
      description: "Divide the mixed task vector by the sum of the (agreeing) weights.",
    },
    {
      name: "rescale",
      type: "boolean",
      default: definition.defaultRescale,
      description:
        "Rescale sparsified task vectors (DARE/DELLA: see dare_rescale; others: L1 norm matching).",
    },
    { name: "lambda", type: "number", default: 1, description: "Scale of the mixed task vector." },
  ];
}

function perModelParamSpecs(definition: TaskFamilyDefinition): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: "weight", type: "number", required: true, description: "Weight of this model's task vector." },
    {
      name: "density",
      type: "number",
      default: 1,
      description: "Fraction of the task vector kept, in [0, 1].",
    },
  ];
  if (definition.sparsification === "magnitude_outliers") {
    specs.push({
      name: "gamma",
      type: "number",
      default: 0.01,
      description: "Fraction of largest values dropped.",
    });
  }
  if (definition.sparsification === "della_magprune") {
    specs.push({
      name: "epsilon",
      type: "number",
      default: 0.15,
      description: "Spread of keep probabilities around density (d ± ε must lie in (0, 1)).",
    });
  }
  return specs;
}

function mergeTaskFamily(definition: TaskFamilyDefinition, ctx: TensorMergeContext): Float32Array {
  const base = ctx.base;
  if (!base) {
    throw new HubmergeError("E_MERGE", `${definition.name} needs a base model`, {
      hint: "Set base_model in the manifest.",
      where: { tensor: ctx.tensorName },
    });
  }
  checkDataLength(base, ctx.tensorName);
  const where = { tensor: ctx.tensorName };
  const normalize = readBoolean(ctx.global, "normalize", definition.defaultNormalize, where);
  const rescale = readBoolean(ctx.global, "rescale", definition.defaultRescale, where);
  const lambda = readNumber(ctx.global, "lambda", 1, where);
  readBoolean(ctx.global, "int8_mask", false, where);

  const vectors = collectTaskVectors(definition, ctx, base);
  if (vectors.length === 0) return Float32Array.from(base.data);
  if (definition.sparsification) {
    const method = definition.sparsification;
    const rowLength = base.shape.length === 0 ? 1 : base.shape[base.shape.length - 1]!;
    for (const { delta, model, density, gamma, epsilon } of vectors) {
      const { seed, dareRescale, tensorName } = ctx;
      sparsify(delta, {
        method,
        density,
        gamma,
        epsilon,
        rowLength,
        rescale,
        dareRescale,
        seed,
        model,
        tensorName,
      });
    }
  }
  for (const vector of vectors) scaleInPlace(vector.delta, vector.weight);

  const mixed = new Float32Array(base.data.length);
  const divisor = definition.consensus
    ? consensusMix(definition.consensus, vectors, mixed)
    : plainMix(vectors, mixed);
  if (normalize) divideInPlace(mixed, divisor);
  addScaled(base.data, mixed, lambda, mixed);
  return mixed;
}

/** Sign-consensus mix into `mixed`; returns the elementwise divisor with zeros replaced by 1. */
function consensusMix(consensus: Consensus, vectors: TaskVector[], mixed: Float32Array): Float32Array {
  const weighted = vectors.map((vector) => vector.delta);
  const majority = signElection(weighted, consensus);
  const divisor = new Float32Array(mixed.length);
  agreeingSum(
    weighted,
    vectors.map((vector) => vector.weight),
    majority,
    mixed,
    divisor,
  );
  for (let i = 0; i < divisor.length; i++) if (divisor[i] === 0) divisor[i] = 1;
  return divisor;
}

/** Plain sum into `mixed`; returns Σ f32(wᵢ) (f32, model order), or 1 when |Σ| < 1e-8. */
function plainMix(vectors: TaskVector[], mixed: Float32Array): number {
  let weightSum = 0;
  for (const vector of vectors) {
    accumulate(mixed, vector.delta);
    weightSum = Math.fround(weightSum + Math.fround(vector.weight));
  }
  return Math.abs(weightSum) < WEIGHT_SUM_EPSILON ? 1 : weightSum;
}

function collectTaskVectors(
  definition: TaskFamilyDefinition,
  ctx: TensorMergeContext,
  base: MergeInput,
): TaskVector[] {
  const vectors: TaskVector[] = [];
  for (const input of ctx.inputs) {
    checkDataLength(input, ctx.tensorName);
    const data = alignToBase(input, base, ctx);
    if (!data) continue;
    const where = { model: input.model, tensor: ctx.tensorName };
    const vector: TaskVector = {
      model: input.model,
      delta: new Float32Array(data.length),
      weight: readNumber(input.params, "weight", undefined, where),
      density: readNumber(input.params, "density", 1, where),
      gamma: 0,
      epsilon: 0,
    };
    if (definition.sparsification === "magnitude_outliers") {
      vector.gamma = readNumber(input.params, "gamma", 0.01, where);
    }
    if (definition.sparsification === "della_magprune") {
      vector.epsilon = readNumber(input.params, "epsilon", 0.15, where);
    }
    checkRanges(vector, where);
    subtract(data, base.data, vector.delta);
    vectors.push(vector);
  }
  return vectors;
}

/** The model's tensor in the base's shape, or undefined (with a warning) when it cannot be used. */
export function alignToBase(
  input: MergeInput,
  base: MergeInput,
  ctx: TensorMergeContext,
): Float32Array | undefined {
  const same = input.shape.length === base.shape.length && input.shape.every((d, i) => d === base.shape[i]);
  if (same) return input.data;
  const shapes = `[${input.shape.join(", ")}] vs the base's [${base.shape.join(", ")}]`;
  const embedding = isEmbeddingTensor(ctx.tensorName) || isEmbeddingTensor(ctx.sourceTensorName);
  if (embedding && covers(input.shape, base.shape)) {
    ctx.warn(`${input.model}: ${ctx.tensorName} is ${shapes}; using its leading rows and columns`);
    return cropLeading(input.data, input.shape, base.shape);
  }
  ctx.warn(`${input.model}: ${ctx.tensorName} is ${shapes}; skipping this model for this tensor`);
  return undefined;
}

function checkDataLength(input: MergeInput, tensor: string): void {
  const expected = elementCount(input.shape);
  if (input.data.length !== expected) {
    throw new HubmergeError(
      "E_INTERNAL",
      `tensor data has ${input.data.length} elements but its shape [${input.shape.join(", ")}] needs ${expected}`,
      { where: { model: input.model, tensor } },
    );
  }
}

function checkRanges(vector: TaskVector, where: Where): void {
  const fail = (message: string, hint: string): never => {
    throw new HubmergeError("E_MERGE", message, { hint, where });
  };
  if (!(vector.density >= 0 && vector.density <= 1)) {
    fail(`density ${vector.density} is outside [0, 1]`, "Give density as a fraction between 0 and 1.");
  }
  if (!(vector.gamma >= 0 && vector.gamma <= 1)) {
    fail(`gamma ${vector.gamma} is outside [0, 1]`, "Give gamma as a fraction between 0 and 1.");
  }
  const { density: d, epsilon: e } = vector;
  if (d > 0 && d < 1 && !(d - e > 0 && d + e < 1)) {
    fail(
      `density ${d} ± epsilon ${e} leaves (0, 1)`,
      "Choose epsilon smaller than both density and 1 − density.",
    );
  }
}

function readParam(params: ResolvedParams, name: string, fallback: ParamValue | undefined, where: Where) {
  const value = params[name] ?? fallback;
  if (value === undefined) {
    throw new HubmergeError("E_MERGE", `the parameter ${name} is required`, {
      hint: `Give ${name} in this model's parameters (or in the global parameters).`,
      where,
    });
  }
  return value;
}

function readNumber(
  params: ResolvedParams,
  name: string,
  fallback: number | undefined,
  where: Where,
): number {
  const value = readParam(params, name, fallback, where);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new HubmergeError(
      "E_MERGE",
      `the parameter ${name} must be a finite number, got ${String(value)}`,
      {
        hint: `Set ${name} to a number.`,
        where,
      },
    );
  }
  return value;
}

function readBoolean(params: ResolvedParams, name: string, fallback: boolean, where: Where): boolean {
  const value = readParam(params, name, fallback, where);
  if (typeof value !== "boolean") {
    throw new HubmergeError("E_MERGE", `the parameter ${name} must be true or false, got ${String(value)}`, {
      hint: `Set ${name} to true or false.`,
      where,
    });
  }
  return value;
}
