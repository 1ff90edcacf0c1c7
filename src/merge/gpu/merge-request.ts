/**
 * From the executor's per-tensor arguments (the same shape fast-path.ts takes) to a GPU merge
 * request, or undefined when the tensor is outside what the kernels reproduce byte for byte:
 * another method or parameters (kernels/wasm/task-plan.ts decides, for both fast backends), a
 * non-float dtype, a shape or byte length that does not match, or 2^32 − 1 elements or more.
 */
import { DTYPE_SIZE, isFloatDType } from "../../safetensors/dtype.js";
import type { FastMergeArgs, RawTensor } from "../fast-path.js";
import type { InputBytes, TensorMergeRequest } from "../kernels/wasm/backend.js";
import { planMerge } from "../kernels/wasm/task-plan.js";

/** The per-tensor arguments, as for tryFastMerge (the runtime is the GPU's). */
export type GpuMergeArgs = Omit<FastMergeArgs, "runtime" | "backend" | "threads">;

/** Tensor indices are u32 in the kernels (and the Philox counter's word 1 stays 0). */
export const MAX_GPU_ELEMENTS = 0xfffffffe;

export function gpuMergeRequest(args: GpuMergeArgs): TensorMergeRequest | undefined {
  const { recipe } = args;
  if (recipe.action !== "merge" || !isFloatDType(recipe.dtype)) return undefined;
  const count = recipe.shape.reduce((a, b) => a * b, 1);
  if (count > MAX_GPU_ELEMENTS) return undefined;
  const base = args.base ? checkedInput(args.base, recipe.shape, count) : undefined;
  if (args.base && !base) return undefined;
  const models: InputBytes[] = [];
  for (const input of args.inputs) {
    const checked = checkedInput(input, recipe.shape, count);
    if (!checked) return undefined;
    models.push(checked);
  }
  const plan = planMerge({
    method: args.method,
    global: args.global,
    models: args.inputs,
    hasBase: base !== undefined,
    count,
    seed: args.seed,
    dareRescale: args.dareRescale,
    tensorName: args.tensorName,
  });
  if (!plan) return undefined;
  return { plan, base, models, outDtype: recipe.dtype, count };
}

function checkedInput(tensor: RawTensor, shape: readonly number[], count: number): InputBytes | undefined {
  if (!isFloatDType(tensor.dtype)) return undefined;
  if (tensor.bytes.byteLength !== count * DTYPE_SIZE[tensor.dtype]) return undefined;
  if (tensor.shape && (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i]))) {
    return undefined;
  }
  return { bytes: tensor.bytes, dtype: tensor.dtype };
}
