/**
 * Where one tensor merge lives in the shared memory, and how it is cut into windows and chunks.
 *
 *   heapBase | descriptor | buckets | worker 0 scratch | … | worker T−1 scratch | window buffer 0 | 1
 *
 * A window buffer holds one window (a run of elements) of every input and of the output; the two
 * buffers alternate, so the main thread copies window w+1 in while workers compute window w.
 * A tensor that fits one window is copied once and stays resident across passes. Windows and
 * chunks start at multiples of GROUP elements, as the kernels require.
 */
import { DTYPE_SIZE, type FloatDType } from "../../../safetensors/dtype.js";
import {
  BLOCK,
  FIXED_SCRATCH_ARRAYS,
  GROUP,
  HIGH_BUCKETS,
  LOW_SLOTS,
  REGION_PADDING,
  descriptorWords,
} from "./abi.js";

export interface LayoutRequest {
  heapBase: number;
  threads: number;
  count: number;
  /** Input dtypes, base first when there is one. */
  inputs: readonly FloatDType[];
  output: FloatDType;
  models: number;
  /** Whether the magnitude histograms are needed. */
  histograms: boolean;
  /** Upper bound of one window buffer in bytes (the window shrinks to fit it). */
  bufferBudget: number;
  /** Fixed window and chunk lengths (tests); otherwise derived from the budget and thread count. */
  windowElements?: number;
  chunkElements?: number;
  /**
   * Chunks never straddle a multiple of this many tensor elements (a multiple of GROUP; SCE's
   * reduction blocks), and are this long by default.
   */
  blockAlign?: number;
}

export interface WorkerRegions {
  scratch: number;
  /** 2 u32 per model: cut-equal counts before the chunk (the kernel advances them). */
  counters: number;
  /** 2 u32 per model: cut-equal counts of the chunk (countEqual's output). */
  equalCounts: number;
  highHists: number;
  lowHists: number;
  /** SCE's state: a u32 select counter, a u32 gap, then one f64 partial sum per model. */
  sums: number;
}

export interface Window {
  index: number;
  /** Tensor element of the window's element 0. */
  start: number;
  length: number;
  /** Chunks as [from, to) offsets within the window. */
  chunks: [number, number][];
  /** Global index of the window's first chunk. */
  firstChunk: number;
}

export interface ArenaLayout {
  descriptor: number;
  buckets: number;
  workers: WorkerRegions[];
  /** Region addresses in window buffer 0: inputs in request order, then the output. */
  inputs: number[];
  output: number;
  /** Add to a buffer-0 address to get the same region in buffer 1. */
  bufferShift: number;
  windows: Window[];
  chunkCount: number;
  /** Bytes of memory the layout needs (from address 0). */
  end: number;
}

const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 256 * 1024;
/** Chunks per thread and window, so that uneven chunk times even out. */
const CHUNKS_PER_THREAD = 4;
export const HIGH_HIST_BYTES = HIGH_BUCKETS * 4;
export const LOW_HIST_BYTES = LOW_SLOTS * 4;

export function planLayout(request: LayoutRequest): ArenaLayout {
  const descriptor = alignUp(request.heapBase, 16);
  const buckets = alignUp(descriptor + descriptorWords(request.models) * 4, 16);
  let at = alignUp(buckets + request.models * 8, 16);
  const workers: WorkerRegions[] = [];
  for (let w = 0; w < request.threads; w++) {
    const regions = workerRegions(at, request.models, request.histograms);
    workers.push(regions.regions);
    at = regions.end;
  }
  const bytesPerElement = request.inputs.reduce(
    (sum, dtype) => sum + DTYPE_SIZE[dtype],
    DTYPE_SIZE[request.output],
  );
  const windowElements = chooseWindow(request, bytesPerElement);
  const windows = cutWindows(request, windowElements);
  const inputs: number[] = [];
  for (const dtype of request.inputs) {
    inputs.push(at);
    at = alignUp(at + windowElements * DTYPE_SIZE[dtype] + REGION_PADDING, 16);
  }
  const output = at;
  at = alignUp(at + windowElements * DTYPE_SIZE[request.output] + REGION_PADDING, 16);
  const bufferShift = at - inputs[0]!;
  const end = windows.length > 1 ? at + bufferShift : at;
  const chunkCount = windows.reduce((sum, w) => sum + w.chunks.length, 0);
  return { descriptor, buckets, workers, inputs, output, bufferShift, windows, chunkCount, end };
}

function workerRegions(
  start: number,
  models: number,
  histograms: boolean,
): { regions: WorkerRegions; end: number } {
  const scratch = start;
  const counters = alignUp(scratch + (FIXED_SCRATCH_ARRAYS + models) * BLOCK * 4, 16);
  const equalCounts = alignUp(counters + models * 8, 16);
  const highHists = alignUp(equalCounts + models * 8, 16);
  const lowHists = highHists + (histograms ? models * HIGH_HIST_BYTES : 0);
  const sums = alignUp(lowHists + (histograms ? 2 * models * LOW_HIST_BYTES : 0), 16);
  const end = alignUp(sums + 8 + models * 8, 16);
  return { regions: { scratch, counters, equalCounts, highHists, lowHists, sums }, end };
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function chooseWindow(request: LayoutRequest, bytesPerElement: number): number {
  const whole = roundUp(Math.max(request.count, 1), GROUP);
  if (request.windowElements !== undefined) return Math.min(whole, roundUp(request.windowElements, GROUP));
  const fitting = Math.floor(request.bufferBudget / bytesPerElement / MAX_CHUNK) * MAX_CHUNK;
  return Math.min(whole, Math.max(MAX_CHUNK, fitting));
}

function cutWindows(request: LayoutRequest, windowElements: number): Window[] {
  const windows: Window[] = [];
  let firstChunk = 0;
  for (let start = 0; start < request.count; start += windowElements) {
    const length = Math.min(windowElements, request.count - start);
    const chunks = cutChunks(start, length, request);
    windows.push({ index: windows.length, start, length, chunks, firstChunk });
    firstChunk += chunks.length;
  }
  return windows;
}

function cutChunks(windowStart: number, length: number, request: LayoutRequest): [number, number][] {
  const block = request.blockAlign;
  const wanted = request.chunkElements ?? block ?? Math.ceil(length / (request.threads * CHUNKS_PER_THREAD));
  const size = roundUp(
    Math.min(MAX_CHUNK, Math.max(request.chunkElements ? GROUP : MIN_CHUNK, wanted)),
    GROUP,
  );
  const chunks: [number, number][] = [];
  for (let from = 0; from < length;) {
    let to = Math.min(length, from + size);
    // The next block boundary after `from`, in tensor elements, ends the chunk early.
    if (block) to = Math.min(to, (Math.floor((windowStart + from) / block) + 1) * block - windowStart);
    chunks.push([from, to]);
    from = to;
  }
  return chunks;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
