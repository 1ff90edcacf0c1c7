/**
 * hubmerge's WebAssembly kernels (compiled by scripts/build-wasm.mjs into
 * src/merge/kernels/wasm/kernels.wasm). Memory is imported and shared between worker threads; the
 * kernels allocate nothing and touch only the addresses they are given.
 */
export * from "./abi";
export { decode, encode } from "./convert";
export { philoxBlock, uniforms24 } from "./philox";
export { histogramHigh, histogramLow, countKey } from "./magnitude";
export { mergeChunk } from "./task-merge";
export { nearswapChunk } from "./nearswap";
export { sceCountEqual, sceHistogramHigh, sceHistogramLow, sceMergeChunk, sceSumSquares } from "./sce";
export { cutHistogramHigh, cutHistogramLow, cutCountEqual, HIGH_BYTES, LOW_BYTES } from "./cuts";

/** First address past the kernels' static data: the JavaScript side lays out memory from here. */
export function heapBase(): usize {
  return __heap_base;
}
