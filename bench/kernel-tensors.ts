/**
 * In-memory inputs for the kernel benchmarks (bench/gpu.ts, bench/method-kernels.ts): synthetic bf16
 * tensors (a base and fine-tunes a few ulps away), each method's merge arguments as the executor
 * would pass them, the reference path (decode, method.merge, encode) and output hashes.
 */
import { createHash } from "node:crypto";
import type { TensorMergeArgs } from "../src/merge/kernels/request.js";
import { methodRegistry } from "../src/merge/methods/registry.js";
import type { ResolvedParams } from "../src/merge/types.js";
import { decodeToF32, encodeFromF32 } from "../src/safetensors/dtype.js";

export interface Tensor {
  name: string;
  base: Uint8Array;
  models: Uint8Array[];
}

export const SEED = 20260101n;
/** Per-model parameters of the task-family merges (DARE's densities are its typical 0.3–0.5). */
const PARAMS: ResolvedParams[] = [
  { weight: 0.6, density: 0.3 },
  { weight: 0.4, density: 0.5 },
];
/** Global parameters: linear normalizes; nearswap's t and sce's select_topk as in published configs. */
const GLOBALS: Record<string, ResolvedParams> = {
  linear: { normalize: true },
  nearswap: { t: 0.0001 },
  sce: { select_topk: 0.5 },
};
/** NearSwap merges exactly one model into the base; the others take two fine-tunes. */
export function fineTunesOf(method: string): number {
  return method === "nearswap" ? 1 : 2;
}

/**
 * `count` tensors of `elements` bf16 weights around ±0.02, and `fineTunes` fine-tunes a few ulps
 * away (a tenth unchanged), from xorshift: the same bytes on every run.
 */
export function synthTensors(count: number, elements: number, fineTunes = 2): Tensor[] {
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return Array.from({ length: count }, (_, t) => {
    const base = new Uint16Array(elements);
    for (let i = 0; i < elements; i++) {
      const r = next();
      base[i] = (r & 0x8000) | (0x3c00 + ((r >>> 16) % 0x180)); // |x| in [2^-7, ~2^-4.5]
    }
    const models = Array.from({ length: fineTunes }, () => {
      const model = new Uint16Array(elements);
      for (let i = 0; i < elements; i++) {
        const r = next();
        model[i] = r % 10 === 0 ? base[i]! : base[i]! + ((r >>> 8) % 17) - 8;
      }
      return new Uint8Array(model.buffer);
    });
    return { name: `model.layers.${t}.mlp.up_proj.weight`, base: new Uint8Array(base.buffer), models };
  });
}

/**
 * The executor's arguments for one tensor of `method` (the first fineTunesOf(method) models), with
 * the method's benchmark globals or `global`.
 */
export function mergeArgs(method: string, tensor: Tensor, global = GLOBALS[method] ?? {}): TensorMergeArgs {
  const n = tensor.base.byteLength / 2;
  const models = tensor.models.slice(0, fineTunesOf(method));
  const params = (i: number): ResolvedParams => (method === "nearswap" || method === "sce" ? {} : PARAMS[i]!);
  return {
    recipe: {
      name: tensor.name,
      sourceTensorName: tensor.name,
      shape: [n],
      dtype: "BF16",
      action: "merge",
      base: { model: "bench/base", tensor: tensor.name, params: {} },
      inputs: models.map((_, i) => ({ model: `bench/ft${i + 1}`, tensor: tensor.name, params: params(i) })),
      global,
    },
    method: methodRegistry.get(method)!,
    base: method === "linear" ? undefined : { bytes: tensor.base, dtype: "BF16" },
    inputs: models.map((bytes, i) => ({
      model: `bench/ft${i + 1}`,
      bytes,
      dtype: "BF16",
      params: params(i),
    })),
    global,
    seed: SEED,
    dareRescale: "paper",
    tensorName: tensor.name,
  };
}

export const hashOf = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The executor's reference path for one tensor: decode, method.merge, encode. */
export function referenceMerge(args: TensorMergeArgs): Uint8Array {
  const shape = args.recipe.shape;
  const input = (model: string, bytes: Uint8Array, params: ResolvedParams) => ({
    model,
    data: decodeToF32(bytes, "BF16"),
    shape,
    params,
  });
  const merged = args.method.merge({
    tensorName: args.tensorName,
    sourceTensorName: args.tensorName,
    shape,
    base: args.base && input("bench/base", args.base.bytes, {}),
    inputs: args.inputs.map((m) => input(m.model, m.bytes, m.params)),
    global: args.global,
    seed: args.seed,
    dareRescale: args.dareRescale,
    warn: () => undefined,
  });
  return encodeFromF32(merged, "BF16");
}
