/**
 * Loads the compiled kernels (kernels.wasm, built from asm/ by scripts/build-wasm.mjs). The module
 * imports one shared memory, so every worker thread instantiates it over the same bytes.
 */
import { readFileSync } from "node:fs";
import { HubmergeError } from "../../../errors.js";
import { WebAssemblyApi, type WasmMemory, type WasmModule } from "./wasm-api.js";

/** 64 KiB wasm pages; the kernels are wasm32, so memory tops out at 4 GiB. */
export const PAGE_BYTES = 65536;
export const MAX_PAGES = 65536;

export interface KernelExports {
  heapBase(): number;
  decode(src: number, dtype: number, count: number, dst: number): void;
  encode(src: number, count: number, dtype: number, dst: number): void;
  philoxBlock(counter: number, key: number, out: number): void;
  uniforms24(start: number, k0: number, k1: number, s0: number, s1: number, count: number, out: number): void;
  histogramHigh(values: number, count: number, hist: number): void;
  histogramLow(values: number, count: number, bucket: number, hist: number): void;
  countKey(values: number, count: number, key: number): number;
  mergeChunk(
    desc: number,
    shift: number,
    windowStart: number,
    from: number,
    to: number,
    scratch: number,
    counters: number,
  ): void;
  cutHistogramHigh(
    desc: number,
    shift: number,
    from: number,
    to: number,
    scratch: number,
    hists: number,
  ): void;
  cutHistogramLow(
    desc: number,
    shift: number,
    from: number,
    to: number,
    scratch: number,
    buckets: number,
    hists: number,
  ): void;
  cutCountEqual(desc: number, shift: number, from: number, to: number, scratch: number, out: number): void;
  nearswapChunk(desc: number, shift: number, from: number, to: number, scratch: number): void;
  sceHistogramHigh(
    desc: number,
    shift: number,
    from: number,
    to: number,
    scratch: number,
    hist: number,
  ): number;
  sceHistogramLow(
    desc: number,
    shift: number,
    from: number,
    to: number,
    scratch: number,
    bucket: number,
    hist: number,
  ): void;
  sceCountEqual(desc: number, shift: number, from: number, to: number, scratch: number): number;
  sceSumSquares(desc: number, shift: number, from: number, to: number, scratch: number, state: number): void;
  sceMergeChunk(desc: number, shift: number, from: number, to: number, scratch: number, state: number): void;
}

let compiled: WasmModule | undefined;
let failure: Error | undefined;

/** The compiled module (compiled once per thread). Throws E_INTERNAL when it cannot be loaded. */
export function kernelModule(): WasmModule {
  if (compiled) return compiled;
  if (!failure) {
    try {
      compiled = new WebAssemblyApi.Module(readFileSync(new URL("./kernels.wasm", import.meta.url)));
      return compiled;
    } catch (error) {
      failure = error as Error;
    }
  }
  throw new HubmergeError("E_INTERNAL", `the WebAssembly kernels cannot be loaded: ${failure.message}`, {
    hint: "Use --backend reference, or rebuild the kernels with `node scripts/build-wasm.mjs`.",
    cause: failure,
  });
}

/** Whether this Node can run the kernels (WebAssembly SIMD and shared memory, and the binary present). */
export function wasmKernelsAvailable(): boolean {
  try {
    instantiateKernels(createKernelMemory(1));
    return true;
  } catch {
    return false;
  }
}

export function createKernelMemory(initialPages: number): WasmMemory {
  return new WebAssemblyApi.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
}

export function instantiateKernels(memory: WasmMemory, module = kernelModule()): KernelExports {
  const instance = new WebAssemblyApi.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

/** Grows `memory` so that it holds at least `bytes` bytes. */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const pages = Math.ceil(bytes / PAGE_BYTES);
  if (pages > MAX_PAGES) {
    throw new HubmergeError("E_INTERNAL", `the kernels need ${bytes} bytes, more than wasm32's 4 GiB`);
  }
  const current = memory.buffer.byteLength / PAGE_BYTES;
  if (pages > current) memory.grow(pages - current);
}
