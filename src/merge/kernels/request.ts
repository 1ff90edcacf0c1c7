/**
 * What every kernel backend is asked: one output tensor's recipe and its inputs' raw bytes
 * (TensorMergeArgs), and what the fast backends (wasm, WebGPU) make of it: a TensorMergeRequest,
 * or undefined when a dtype, size, shape or parameter is outside what their kernels reproduce
 * byte for byte (the method's kernel plan decides the methods; see wasm/task-plan.ts).
 */
import { DTYPE_SIZE, isFloatDType, type DType, type FloatDType } from "../../safetensors/dtype.js";
import type { TensorRecipe } from "../plan/types.js";
import type { DareRescale, MergeMethod, ResolvedParams } from "../types.js";
import { GROUP } from "./wasm/abi.js";
import { isElementwise, planMerge, type KernelPlan } from "./plan.js";

export interface RawTensor {
  bytes: Uint8Array;
  dtype: DType;
  /** When given, a shape that differs from the recipe's sends the tensor to the reference. */
  shape?: readonly number[];
}

/** One output tensor to merge, as the executor hands it to a backend. */
export interface TensorMergeArgs {
  recipe: TensorRecipe;
  method: MergeMethod;
  base?: RawTensor;
  /** The non-base inputs in manifest order, with their resolved parameters. */
  inputs: (RawTensor & { model: string; params: ResolvedParams })[];
  global: ResolvedParams;
  seed: bigint;
  dareRescale: DareRescale;
  tensorName: string;
  /**
   * The caller gives up the input bytes: the result may be written over one of them (and returned
   * as a view of it), which saves an output-sized buffer and its page faults. Only for buffers the
   * caller owns exclusively (fresh reads), never for views of a model held in memory.
   */
  consumeInputs?: boolean;
  /**
   * Merge only elements [offset, offset + count) of the tensor (a piece of a large one; the inputs
   * hold just those elements). Only for elementwise plans (no magnitude cut, which needs the whole
   * tensor, nor SCE's whole-tensor passes; see canMergePieces), with `offset` a multiple of
   * PIECE_ALIGNMENT.
   */
  elements?: { offset: number; count: number };
}

/** TensorMergeArgs before anything is read: the inputs' dtypes and shapes, not their bytes. */
export type PieceQuery = Omit<TensorMergeArgs, "base" | "inputs" | "elements" | "consumeInputs"> & {
  base?: Omit<RawTensor, "bytes">;
  inputs: (Omit<RawTensor, "bytes"> & { model: string; params: ResolvedParams })[];
};

export interface InputBytes {
  bytes: Uint8Array;
  dtype: FloatDType;
}

/** What the fast backends merge: a kernel plan and the inputs' float bytes. */
export interface TensorMergeRequest {
  plan: KernelPlan;
  /** The base tensor, when the plan has one (every plan but linear's). */
  base?: InputBytes;
  /** One per plan term, in the same order. */
  models: readonly InputBytes[];
  outDtype: FloatDType;
  /** Elements of every input and of the output. */
  count: number;
  /**
   * Tensor index of element 0 when the request is a piece of a larger tensor (a multiple of 16):
   * the DARE stream is indexed by tensor element, so a piece draws what the whole tensor would.
   */
  elementOffset?: number;
  /**
   * A buffer the result may be written over: one of the inputs' own bytes that the caller gives
   * up (not overlapping another input; element size ≥ the output's, or equal to it when the input
   * is in a SharedArrayBuffer, which workers copy in chunk by chunk). Saves the output buffers.
   */
  resultInto?: Uint8Array;
}

/** Pieces start at multiples of this many elements (the kernels' group of Philox blocks). */
export const PIECE_ALIGNMENT = GROUP;
/** Elements per piece on the CPU: 8 MiB of bf16 per input, a few kernel windows' worth. */
export const PIECE_ELEMENTS = 4 * 1024 * 1024;

/**
 * What both fast backends (wasm and WebGPU) need to merge a tensor, or undefined when a dtype,
 * size, shape or parameter is outside the kernels' scope (the method's kernel plan decides).
 */
export function kernelRequest(args: TensorMergeArgs): TensorMergeRequest | undefined {
  const { recipe, elements } = args;
  if (recipe.action !== "merge" || !isFloatDType(recipe.dtype)) return undefined;
  const total = recipe.shape.reduce((a, b) => a * b, 1);
  if (elements && !validPiece(elements, total)) return undefined;
  const count = elements?.count ?? total;
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
  if (elements && !isElementwise(plan)) return undefined;
  return { plan, base, models, outDtype: recipe.dtype, count, elementOffset: elements?.offset ?? 0 };
}

function validPiece(piece: { offset: number; count: number }, total: number): boolean {
  const { offset, count } = piece;
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(count) &&
    offset >= 0 &&
    count > 0 &&
    offset % PIECE_ALIGNMENT === 0 &&
    offset + count <= total
  );
}

/**
 * Whether the fast kernels can merge this tensor piece by piece: the same decision as
 * kernelRequest's, made from the inputs' dtypes and shapes before anything is read.
 */
export function canMergePieces(args: PieceQuery): boolean {
  const total = args.recipe.shape.reduce((a, b) => a * b, 1);
  // A first piece of a few elements, with stand-in bytes: the decision never looks at the values.
  const count = Math.min(total, PIECE_ALIGNMENT);
  const probe = (tensor: Omit<RawTensor, "bytes">) => ({
    ...tensor,
    bytes: new Uint8Array(isFloatDType(tensor.dtype) ? count * DTYPE_SIZE[tensor.dtype] : 0),
  });
  const request = kernelRequest({
    ...args,
    base: args.base && probe(args.base),
    inputs: args.inputs.map((input) => ({ ...input, ...probe(input) })),
    elements: { offset: 0, count },
  });
  return request !== undefined;
}

function checkedInput(tensor: RawTensor, shape: readonly number[], count: number): InputBytes | undefined {
  if (!isFloatDType(tensor.dtype)) return undefined;
  if (tensor.bytes.byteLength !== count * DTYPE_SIZE[tensor.dtype]) return undefined;
  if (tensor.shape && (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i]))) {
    return undefined;
  }
  return { bytes: tensor.bytes, dtype: tensor.dtype };
}
