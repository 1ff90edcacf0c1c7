/**
 * The fast path of the executor: merges one output tensor on the WebAssembly backend when it can
 * (methods and parameters the kernels reproduce byte for byte; see kernels/wasm/task-plan.ts),
 * straight from the inputs' raw bytes to the output's. Returns undefined otherwise, and the
 * executor runs the reference.
 *
 *   const runtime = createKernelRuntime({ backend: "auto", threads });
 *   const bytes = await tryFastMerge({ ...tensorArgs, runtime }) ?? referenceMerge();
 *   await runtime.close();
 */
import { availableParallelism } from "node:os";
import { HubmergeError } from "../errors.js";
import { DTYPE_SIZE, isFloatDType, type DType, type FloatDType } from "../safetensors/dtype.js";
import { WasmMergeBackend, type InputBytes, type WasmBackendOptions } from "./kernels/wasm/backend.js";
import { wasmKernelsAvailable } from "./kernels/wasm/load-kernels.js";
import { GROUP } from "./kernels/wasm/abi.js";
import { planMerge } from "./kernels/wasm/task-plan.js";
import type { TensorRecipe } from "./plan/types.js";
import type { DareRescale, MergeMethod, ResolvedParams } from "./types.js";

export type BackendChoice = "reference" | "wasm" | "auto";

export interface RuntimeOptions extends WasmBackendOptions {
  backend: BackendChoice;
}

export interface KernelRuntime {
  /** The backend in use ("auto" resolved): what the run summary reports. */
  readonly backend: "reference" | "wasm";
  readonly threads: number;
  /**
   * Merges one tensor if this backend can; undefined means "use the reference". With
   * consumeInputs the result is a view of one of the inputs' buffers; otherwise it lives in a
   * buffer the runtime reuses: valid until the third tryMerge after this one starts, which covers
   * writing unit i while units i+1 and i+2 merge. Copy it to keep it longer.
   */
  tryMerge(args: FastMergeArgs): Promise<Uint8Array | undefined>;
  /** Stops the worker threads; the runtime must not be used afterwards. */
  close(): Promise<void>;
}

export interface RawTensor {
  bytes: Uint8Array;
  dtype: DType;
  /** When given, a shape that differs from the recipe's sends the tensor to the reference. */
  shape?: readonly number[];
}

export interface FastMergeArgs {
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
   * tensor; see canMergePieces), with `offset` a multiple of PIECE_ALIGNMENT.
   */
  elements?: { offset: number; count: number };
  /** Used when `runtime` is not given: a shared runtime per (backend, threads) is created on demand. */
  backend?: BackendChoice;
  threads?: number;
  runtime?: KernelRuntime;
}

export function createKernelRuntime(options: RuntimeOptions): KernelRuntime {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  if (options.backend === "reference") return referenceRuntime(threads);
  if (!wasmKernelsAvailable()) {
    if (options.backend === "auto") return referenceRuntime(threads);
    throw new HubmergeError("E_USAGE", "the wasm backend is not available in this Node.js", {
      hint: "Use --backend reference (or auto); the kernels need WebAssembly SIMD and shared memory (Node 20+).",
    });
  }
  let backend: WasmMergeBackend | undefined;
  return {
    backend: "wasm",
    threads,
    async tryMerge(args) {
      const request = toRequest(args);
      if (!request) return undefined;
      backend ??= new WasmMergeBackend({ ...options, threads });
      return backend.merge(request);
    },
    async close() {
      await backend?.close();
      backend = undefined;
    },
  };
}

function referenceRuntime(threads: number): KernelRuntime {
  return { backend: "reference", threads, tryMerge: async () => undefined, close: async () => undefined };
}

const sharedRuntimes = new Map<string, KernelRuntime>();

/**
 * Merges one tensor on the fast backend, or returns undefined (then use the reference). The bytes
 * are valid until the third call after this one on the same runtime starts (see tryMerge).
 */
export async function tryFastMerge(args: FastMergeArgs): Promise<Uint8Array | undefined> {
  if (args.runtime) return args.runtime.tryMerge(args);
  const backend = args.backend ?? "auto";
  if (backend === "reference") return undefined;
  const threads = Math.max(1, Math.floor(args.threads ?? availableParallelism()));
  const key = `${backend}:${threads}`;
  let runtime = sharedRuntimes.get(key);
  if (!runtime) {
    runtime = createKernelRuntime({ backend, threads });
    sharedRuntimes.set(key, runtime);
  }
  return runtime.tryMerge(args);
}

/** Closes the runtimes tryFastMerge created on demand (their idle workers never hold the process). */
export async function closeSharedRuntimes(): Promise<void> {
  const runtimes = [...sharedRuntimes.values()];
  sharedRuntimes.clear();
  await Promise.all(runtimes.map((runtime) => runtime.close()));
}

/**
 * What both fast backends (wasm and WebGPU) need to merge a tensor, or undefined when a dtype,
 * size, shape or parameter is outside the kernels' scope (task-plan.ts decides the methods).
 */
export function kernelRequest(args: Omit<FastMergeArgs, "runtime" | "backend" | "threads">) {
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
  if (elements && plan.terms.some((term) => term.sparsity.mode === "magnitude")) return undefined;
  return { plan, base, models, outDtype: recipe.dtype, count, elementOffset: elements?.offset ?? 0 };
}

/** Pieces start at multiples of this many elements (the kernels' group of Philox blocks). */
export const PIECE_ALIGNMENT = GROUP;

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
 * Whether the wasm kernels can merge this tensor piece by piece: the same decision as
 * kernelRequest's, made from the inputs' dtypes and shapes before anything is read.
 */
export function canMergePieces(
  args: Omit<FastMergeArgs, "runtime" | "backend" | "threads" | "base" | "inputs" | "elements"> & {
    base?: Omit<RawTensor, "bytes">;
    inputs: (Omit<RawTensor, "bytes"> & { model: string; params: ResolvedParams })[];
  },
): boolean {
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

/** The wasm request: the shared one, plus where the result may go when the inputs are given up. */
function toRequest(args: FastMergeArgs) {
  const request = kernelRequest(args);
  if (!request) return undefined;
  const inputs = request.base ? [request.base, ...request.models] : request.models;
  const resultInto = args.consumeInputs ? reusableInput(inputs, request.outDtype) : undefined;
  return { ...request, resultInto };
}

/**
 * An input whose bytes can take the result, overlapping no other input. Its elements must be at
 * least as wide as the output's (a window is copied in before its result is copied over it), and
 * exactly as wide when workers copy it in chunk by chunk (SharedArrayBuffer inputs): then each
 * chunk's result covers only bytes that chunk itself has already read.
 */
function reusableInput(inputs: readonly InputBytes[], outDtype: FloatDType): Uint8Array | undefined {
  const overlap = (a: Uint8Array, b: Uint8Array) =>
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength;
  const wideEnough = (input: InputBytes) =>
    input.bytes.buffer instanceof SharedArrayBuffer
      ? DTYPE_SIZE[input.dtype] === DTYPE_SIZE[outDtype]
      : DTYPE_SIZE[input.dtype] >= DTYPE_SIZE[outDtype];
  const index = inputs.findIndex(
    (candidate, i) =>
      wideEnough(candidate) && inputs.every((other, j) => j === i || !overlap(other.bytes, candidate.bytes)),
  );
  return index < 0 ? undefined : inputs[index]!.bytes;
}

function checkedInput(tensor: RawTensor, shape: readonly number[], count: number): InputBytes | undefined {
  if (!isFloatDType(tensor.dtype)) return undefined;
  if (tensor.bytes.byteLength !== count * DTYPE_SIZE[tensor.dtype]) return undefined;
  if (tensor.shape && (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i]))) {
    return undefined;
  }
  return { bytes: tensor.bytes, dtype: tensor.dtype };
}
