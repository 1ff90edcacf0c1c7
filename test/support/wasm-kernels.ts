/**
 * Test helper: the wasm kernels instantiated on the calling thread, over a private memory, to call
 * single kernels (conversions, Philox, histograms) without worker threads. Inputs are staged
 * through a bounded buffer, so memory does not grow with the data.
 */
import { DTYPE_SIZE, type FloatDType } from "../../src/safetensors/dtype.js";
import { DTYPE_CODE, REGION_PADDING } from "../../src/merge/kernels/wasm/abi.js";
import { alignUp } from "../../src/merge/kernels/wasm/layout.js";
import {
  createKernelMemory,
  ensureMemory,
  instantiateKernels,
  type KernelExports,
} from "../../src/merge/kernels/wasm/load-kernels.js";
import type { WasmMemory } from "../../src/merge/kernels/wasm/wasm-api.js";

/** Elements converted per kernel call. */
const STAGE_ELEMENTS = 1 << 18;

export interface LocalKernels {
  exports: KernelExports;
  memory: WasmMemory;
  /** First free address (16-aligned) past the kernels' static data. */
  heapBase: number;
  /** Grows memory to `bytes` past heapBase and returns a byte view of all of memory. */
  reserve(bytes: number): Uint8Array;
}

let local: LocalKernels | undefined;

export function localKernels(): LocalKernels {
  if (local) return local;
  const memory = createKernelMemory(16);
  const exports = instantiateKernels(memory);
  const heapBase = alignUp(exports.heapBase(), 16);
  local = {
    exports,
    memory,
    heapBase,
    reserve(bytes) {
      ensureMemory(memory, heapBase + bytes);
      return new Uint8Array(memory.buffer);
    },
  };
  return local;
}

/** decodeToF32 on the kernels: little-endian bytes of a float dtype to f32. */
export function wasmDecodeToF32(bytes: Uint8Array, dtype: FloatDType): Float32Array {
  const size = DTYPE_SIZE[dtype];
  const count = bytes.byteLength / size;
  const out = new Float32Array(count);
  const kernels = localKernels();
  const src = kernels.heapBase;
  const dst = alignUp(src + STAGE_ELEMENTS * size + REGION_PADDING, 16);
  const view = kernels.reserve(dst - src + STAGE_ELEMENTS * 4 + REGION_PADDING);
  const outBytes = new Uint8Array(out.buffer);
  for (let start = 0; start < count; start += STAGE_ELEMENTS) {
    const n = Math.min(STAGE_ELEMENTS, count - start);
    view.set(bytes.subarray(start * size, (start + n) * size), src);
    kernels.exports.decode(src, DTYPE_CODE[dtype], n, dst);
    outBytes.set(view.subarray(dst, dst + n * 4), start * 4);
  }
  return out;
}

/** encodeFromF32 on the kernels: f32 to little-endian bytes of a float dtype. */
export function wasmEncodeFromF32(values: Float32Array, dtype: FloatDType): Uint8Array {
  const size = DTYPE_SIZE[dtype];
  const count = values.length;
  const out = new Uint8Array(count * size);
  const kernels = localKernels();
  const src = kernels.heapBase;
  const dst = alignUp(src + STAGE_ELEMENTS * 4 + REGION_PADDING, 16);
  const view = kernels.reserve(dst - src + STAGE_ELEMENTS * size + REGION_PADDING);
  const inBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let start = 0; start < count; start += STAGE_ELEMENTS) {
    const n = Math.min(STAGE_ELEMENTS, count - start);
    view.set(inBytes.subarray(start * 4, (start + n) * 4), src);
    kernels.exports.encode(src, n, DTYPE_CODE[dtype], dst);
    out.set(view.subarray(dst, dst + n * size), start * size);
  }
  return out;
}
