/**
 * Exact top-k threshold by histogram select (the wasm kernels, one thread) against sorting the
 * magnitudes, on task-vector-like values with many ties (bf16 differences).
 */
import { magnitudeTopKMask } from "../src/merge/kernels/reference/magnitude-select.js";
import { HIGH_BUCKETS, LOW_SLOTS } from "../src/merge/kernels/wasm/abi.js";
import { localKernels } from "../test/support/wasm-kernels.js";
import { chooseBucket, chooseKey } from "../src/merge/kernels/wasm/magnitude-cuts.js";
import { decodeToF32, encodeFromF32 } from "../src/safetensors/dtype.js";

export interface TopKResult {
  elements: number;
  selectSeconds: number;
  sortSeconds: number;
  referenceSeconds: number;
}

/** Differences of two bf16 tensors, as TIES sees them. */
function taskVector(n: number): Float32Array {
  const base = new Float32Array(n);
  const tuned = new Float32Array(n);
  let state = 0x1234567;
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    base[i] = ((state >>> 0) / 2 ** 31 - 1) * 0.05;
    tuned[i] = base[i]! + ((state & 0xffff) / 32768 - 1) * 0.004;
  }
  const b = decodeToF32(encodeFromF32(base, "BF16"), "BF16");
  const t = decodeToF32(encodeFromF32(tuned, "BF16"), "BF16");
  for (let i = 0; i < n; i++) t[i] = Math.fround(t[i]! - b[i]!);
  return t;
}

/** The k-th largest |x| by the two histogram passes, in wasm. */
function wasmThreshold(values: Float32Array, k: number): number {
  const kernels = localKernels();
  const at = kernels.heapBase;
  const high = at + values.byteLength + 64;
  const low = high + HIGH_BUCKETS * 4;
  const memory = kernels.reserve(values.byteLength + 64 + (HIGH_BUCKETS + LOW_SLOTS) * 4);
  memory.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  memory.fill(0, high, low + LOW_SLOTS * 4);
  const words = new Uint32Array(memory.buffer);
  kernels.exports.histogramHigh(at, values.length, high);
  const bucket = chooseBucket(words.subarray(high / 4, high / 4 + HIGH_BUCKETS), k);
  kernels.exports.histogramLow(at, values.length, bucket.bucket, low);
  return chooseKey(words.subarray(low / 4, low / 4 + LOW_SLOTS), k, bucket).key;
}

function sortThreshold(values: Float32Array, k: number): number {
  const magnitudes = values.map(Math.abs).sort();
  return new Uint32Array(new Float32Array([magnitudes[values.length - k]!]).buffer)[0]!;
}

function seconds(run: () => unknown): number {
  const started = performance.now();
  run();
  return (performance.now() - started) / 1000;
}

export function measureTopK(elements: number): TopKResult {
  const values = taskVector(elements);
  const k = Math.floor(elements * 0.3);
  wasmThreshold(values, k); // compile and warm up
  const selectSeconds = Math.min(...[0, 1, 2].map(() => seconds(() => wasmThreshold(values, k))));
  if (wasmThreshold(values, k) !== sortThreshold(values, k))
    throw new Error("top-k: select and sort disagree");
  const sortSeconds = seconds(() => sortThreshold(values, k));
  const referenceSeconds = seconds(() => magnitudeTopKMask(values, k));
  return { elements, selectSeconds, sortSeconds, referenceSeconds };
}
