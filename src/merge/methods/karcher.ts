/**
 * Karcher mean (mergekit's `merge_methods/karcher.py`): the Riemannian barycentre of the models'
 * directions on the unit sphere, found by mergekit's fixed-point iteration, rescaled by the mean
 * of their norms. Every model counts equally (weight 1/N); a `base_model` is one of the models.
 *
 * The iterate u always lies in the span of the inputs, so hubmerge runs mergekit's iteration on
 * the coefficients of u = Σ βⱼvⱼ with the Gram matrix G of the inputs (span.ts), in f64, and
 * forms the tensor once at the end. Exact definition (models in manifest order):
 *   nᵢ = √Gᵢᵢ;  valid = {i : nᵢ > tol};  none valid: out = +0 everywhere;  one model: out = θ₁;
 *   aᵢ = 1/|valid| for valid i;  β = Σ aᵢeᵢ/nᵢ;  ‖β‖ = √(βᵀGβ) (< tol: β = e_first/n_first, else β/‖β‖);
 *   max_iter times:  T = Σ over valid i with θᵢ ≥ tol of aᵢ·(θᵢ/sin θᵢ)·(eᵢ/nᵢ − dᵢβ),
 *                    where dᵢ = clamp((Gβ)ᵢ/nᵢ, −1, 1), θᵢ = acos dᵢ;
 *                    ‖T‖ = √(TᵀGT); stop when ‖T‖ < tol;
 *                    β = cos‖T‖·β + (sin‖T‖/‖T‖)·T;  then β/‖β‖ when ‖β‖ > tol;
 *   s = Σᵢ nᵢ/N over all models;  out = Σ f32(f32(s·βⱼ)·vⱼ) (span.ts combine).
 * mergekit iterates on whole f32 tensors (norms and dot products in f32); the angles between
 * fine-tunes of one base are small, where f32 dot products lose most of their digits, so its
 * results differ from these in the low bits.
 */

import { HubmergeError } from "../../errors.js";
import type { MergeMethod, ParamSpec, TensorMergeContext } from "../types.js";
import { requireInputCount, requireNoBase, requireOutputSized } from "./input-checks.js";
import { readNumber, siteOf } from "./param-reader.js";
import { combine, gramMatrix, gramProduct, gramRow } from "./span.js";

export interface KarcherOptions {
  maxIter: number;
  tol: number;
}

function normalized(gram: Float64Array, beta: number[], tol: number): number[] {
  const norm = Math.sqrt(Math.max(0, gramProduct(gram, beta, beta)));
  return norm > tol ? beta.map((b) => b / norm) : beta;
}

/** One step's tangent vector T (coefficients), or undefined when every angle is below tol. */
function tangent(
  gram: Float64Array,
  beta: readonly number[],
  norms: readonly number[],
  valid: readonly number[],
  tol: number,
) {
  const count = beta.length;
  const t = new Array<number>(count).fill(0);
  const weight = 1 / valid.length;
  for (const i of valid) {
    const dot = Math.min(1, Math.max(-1, gramRow(gram, i, beta) / (norms[i] as number)));
    const theta = Math.acos(dot);
    if (theta < tol) continue;
    const factor = (weight * theta) / Math.sin(theta);
    for (let j = 0; j < count; j++) t[j] = (t[j] as number) - factor * dot * (beta[j] as number);
    t[i] = (t[i] as number) + factor / (norms[i] as number);
  }
  return t;
}

/** The coefficients of the output, s·β (see the module comment). */
export function karcherCoefficients(gram: Float64Array, options: KarcherOptions): number[] {
  const count = Math.round(Math.sqrt(gram.length));
  const norms = Array.from({ length: count }, (_, i) => Math.sqrt(gram[i * count + i]!));
  const valid = norms.flatMap((norm, i) => (norm > options.tol ? [i] : []));
  if (valid.length === 0) return new Array<number>(count).fill(0);
  let beta = new Array<number>(count).fill(0);
  for (const i of valid) beta[i] = 1 / valid.length / (norms[i] as number);
  const start = Math.sqrt(Math.max(0, gramProduct(gram, beta, beta)));
  if (start < options.tol) {
    beta = new Array<number>(count).fill(0);
    beta[valid[0]!] = 1 / (norms[valid[0]!] as number);
  } else beta = beta.map((b) => b / start);
  for (let iteration = 0; iteration < options.maxIter; iteration++) {
    const t = tangent(gram, beta, norms, valid, options.tol);
    const size = Math.sqrt(Math.max(0, gramProduct(gram, t, t)));
    if (size < options.tol) break;
    const along = Math.cos(size);
    const across = Math.sin(size) / size;
    beta = normalized(
      gram,
      beta.map((b, j) => along * b + across * (t[j] as number)),
      options.tol,
    );
  }
  const scale = norms.reduce((sum, norm) => sum + norm / count, 0);
  return beta.map((b) => scale * b);
}

const MAX_ITER: ParamSpec = {
  name: "max_iter",
  type: "number",
  default: 10,
  description: "most iterations of the Karcher mean algorithm (a whole number)",
  range: { min: 0 },
  hint: "max_iter counts iterations, e.g. 10 (mergekit's default) or 100.",
};

const TOL: ParamSpec = {
  name: "tol",
  type: "number",
  default: 1e-5,
  description: "convergence tolerance (also the smallest norm and angle that count)",
  range: { min: 0 },
  hint: "tol is a small positive tolerance such as 1e-5 (mergekit's default).",
};

function readOptions(ctx: TensorMergeContext): KarcherOptions {
  const maxIter = readNumber(MAX_ITER, ctx.global, siteOf("karcher", ctx));
  const tol = readNumber(TOL, ctx.global, siteOf("karcher", ctx));
  if (!Number.isInteger(maxIter) || maxIter < 0) {
    throw new HubmergeError("E_MERGE", `karcher: max_iter must be a whole number ≥ 0, got ${maxIter}`, {
      hint: "Set max_iter to the most iterations to run, e.g. 10 (mergekit's default).",
      where: { tensor: ctx.tensorName },
    });
  }
  return { maxIter, tol };
}

export const karcherMethod: MergeMethod = {
  name: "karcher",
  prettyName: "Karcher Mean",
  reference: "https://arxiv.org/abs/2603.04972",
  summary:
    "averages the models on the unit sphere (their Karcher, or Riemannian, mean direction, found iteratively) and rescales the result to the mean of their norms.",
  shapePolicy: "strict",
  dropsAtRandom: false,
  base: "none",
  minModels: 1,
  globalParams: [MAX_ITER, TOL],
  perModelParams: [],
  merge(ctx: TensorMergeContext): Float32Array {
    requireNoBase("karcher", ctx);
    requireInputCount("karcher", ctx, 1);
    requireOutputSized("karcher", ctx, ctx.inputs);
    const options = readOptions(ctx);
    if (ctx.inputs.length === 1) return Float32Array.from(ctx.inputs[0]!.data);
    const vectors = ctx.inputs.map((input) => input.data);
    return combine(vectors, karcherCoefficients(gramMatrix(vectors), options));
  },
};
