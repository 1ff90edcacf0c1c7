/**
 * The WebAssembly backend: merges a tensor on worker threads when the method's kernel plan and
 * the inputs allow it (request.ts), straight from the inputs' raw bytes to the output's; declines
 * otherwise, and the executor runs the reference. The workers start on the first merge.
 *
 *   const wasm = openWasmBackend({ threads });
 *   const bytes = (await wasm.tryMerge(tensorArgs)) ?? referenceMerge();
 *   await wasm.close();
 */
import { availableParallelism } from "node:os";
import { HubmergeError } from "../../../errors.js";
import { DTYPE_SIZE, type FloatDType } from "../../../safetensors/dtype.js";
import type { KernelBackend } from "../backend.js";
import {
  canMergePieces,
  kernelRequest,
  PIECE_ELEMENTS,
  type InputBytes,
  type TensorMergeArgs,
  type TensorMergeRequest,
} from "../request.js";
import { wasmKernelsAvailable } from "./load-kernels.js";
import { WasmMerger, type WasmBackendOptions } from "./merger.js";

export type { WasmBackendOptions } from "./merger.js";

/** Throws E_USAGE when this Node cannot run the kernels (see wasmKernelsAvailable). */
export function openWasmBackend(options: WasmBackendOptions = {}): KernelBackend {
  if (!wasmKernelsAvailable()) {
    throw new HubmergeError("E_USAGE", "the wasm backend is not available in this Node.js", {
      hint: "Use --backend reference (or auto); the kernels need WebAssembly SIMD and shared memory (Node 20+).",
    });
  }
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  let merger: WasmMerger | undefined;
  return {
    label: `wasm (${threads} thread${threads === 1 ? "" : "s"})`,
    async tryMerge(args) {
      const request = toRequest(args);
      if (!request) return undefined;
      merger ??= new WasmMerger({ ...options, threads });
      return merger.merge(request);
    },
    canMergePieces,
    pieceElements: PIECE_ELEMENTS,
    async close() {
      await merger?.close();
      merger = undefined;
    },
  };
}

/** The wasm request: the shared one, plus where the result may go when the inputs are given up. */
function toRequest(args: TensorMergeArgs): TensorMergeRequest | undefined {
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
