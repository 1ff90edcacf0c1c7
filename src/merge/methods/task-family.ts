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
import type { MergeInput, MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { covers, cropLeading, elementCount } from "../kernels/layout.js";
import {
  accumulate,
  addScaled,
  agreeingSum,
  divideInPlace,
  scaleInPlace,
  signElection,
  subtract,
} from "../kernels/reference/primitives.js";
import { sparsify } from "../kernels/reference/sparsify.js";
import { requireBase } from "./input-checks.js";
import { readBoolean, readNumber, siteOf, type ParamSite } from "./param-reader.js";
import { taskFamilyKernelPlan } from "./task-family-plan.js";
import {
  taskFamilySpecs,
  type Consensus,
  type TaskFamilyDefinition,
  type TaskFamilySpecs,
} from "./task-family-params.js";
import { plainDivisor } from "./weight-sum.js";

export type { Consensus, Sparsification, TaskFamilyDefinition } from "./task-family-params.js";

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

export function isEmbeddingTensor(name: string): boolean {
  return EMBEDDING_MARKERS.some((marker) => name.includes(marker));
}

export function defineTaskFamilyMethod(definition: TaskFamilyDefinition): MergeMethod {
  const specs = taskFamilySpecs(definition);
  const kernelPlan = taskFamilyKernelPlan(definition, specs);
  return {
    name: definition.name,
    prettyName: definition.prettyName,
    reference: definition.reference,
    summary: definition.summary,
    // Embeddings of another vocabulary are cropped, other mismatched tensors skipped (alignToBase).
    shapePolicy: "task-family",
    dropsAtRandom: definition.sparsification === "random" || definition.sparsification === "della_magprune",
    base: "required",
    minModels: 1,
    globalParams: [specs.int8Mask, specs.normalize, specs.rescale, specs.lambda],
    perModelParams: [specs.weight, specs.density, ...[specs.gamma, specs.epsilon].filter(isSpec)],
    merge: (ctx) => mergeTaskFamily(definition, specs, ctx),
    ...(kernelPlan && { kernelPlan }),
  };
}

function isSpec(spec: ParamSpec | undefined): spec is ParamSpec {
  return spec !== undefined;
}

function mergeTaskFamily(
  definition: TaskFamilyDefinition,
  specs: TaskFamilySpecs,
  ctx: TensorMergeContext,
): Float32Array {
  const base = requireBase(definition.name, ctx);
  checkDataLength(base, ctx.tensorName);
  const site = siteOf(definition.name, ctx);
  const normalize = readBoolean(specs.normalize, ctx.global, site);
  const rescale = readBoolean(specs.rescale, ctx.global, site);
  const lambda = readNumber(specs.lambda, ctx.global, site);
  readBoolean(specs.int8Mask, ctx.global, site);

  const vectors = collectTaskVectors(definition, specs, ctx, base);
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
  for (const vector of vectors) accumulate(mixed, vector.delta);
  return plainDivisor(vectors.map((vector) => vector.weight));
}

function collectTaskVectors(
  definition: TaskFamilyDefinition,
  specs: TaskFamilySpecs,
  ctx: TensorMergeContext,
  base: MergeInput,
): TaskVector[] {
  const vectors: TaskVector[] = [];
  for (const input of ctx.inputs) {
    checkDataLength(input, ctx.tensorName);
    const data = alignToBase(input, base, ctx);
    if (!data) continue;
    const site = siteOf(definition.name, ctx, input.model);
    const vector: TaskVector = {
      model: input.model,
      delta: new Float32Array(data.length),
      weight: readNumber(specs.weight, input.params, site),
      density: readNumber(specs.density, input.params, site),
      gamma: specs.gamma ? readNumber(specs.gamma, input.params, site) : 0,
      epsilon: specs.epsilon ? readNumber(specs.epsilon, input.params, site) : 0,
    };
    checkDellaSpread(vector, site);
    subtract(data, base.data, vector.delta);
    vectors.push(vector);
  }
  return vectors;
}

/** The model's tensor in the base's shape, or undefined (with a warning) when it cannot be used. */
function alignToBase(input: MergeInput, base: MergeInput, ctx: TensorMergeContext): Float32Array | undefined {
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

/**
 * DELLA's keep probabilities run from density − epsilon to density + epsilon, so both must lie in
 * (0, 1) below density 1 (as mergekit). The manifest check (validate-params.ts) says the same at
 * the manifest's line; this one covers direct callers. With epsilon 0 (the other methods) it holds.
 */
function checkDellaSpread(vector: TaskVector, site: ParamSite): void {
  const { density: d, epsilon: e } = vector;
  if (d >= 1 || (d - e > 0 && d + e < 1)) return;
  throw new HubmergeError("E_MERGE", `${site.method}: density ${d} ± epsilon ${e} leaves (0, 1)`, {
    hint: "Choose epsilon smaller than both density and 1 − density.",
    where: { model: site.model, tensor: site.tensor },
  });
}
