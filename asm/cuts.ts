/**
 * The passes that find each model's magnitude cuts before the fused kernel runs (TIES and
 * breadcrumbs): histograms of the task vectors' order keys, then how many elements of a chunk
 * equal a cut key. Each pass covers elements [from, to) of a window; chunk results add up.
 */
import {
  BLOCK,
  FLAG_HAS_BASE,
  H_BASE_DTYPE,
  H_BASE_PTR,
  H_FLAGS,
  H_MODELS,
  HIGH_BUCKETS,
  LOW_SLOTS,
  M_DTYPE,
  M_LOWER_KEY,
  M_MODE,
  M_PTR,
  M_UPPER_KEY,
  MODE_MAGNITUDE,
} from "./abi";
import { modelWord, word } from "./descriptor";
import { decodeBlock, elementBytes } from "./convert";
import { countKey, histogramHigh, histogramLow } from "./magnitude";

const BLOCK_BYTES: usize = (<usize>BLOCK) << 2;
export const HIGH_BYTES: usize = (<usize>HIGH_BUCKETS) << 2;
export const LOW_BYTES: usize = (<usize>LOW_SLOTS) << 2;

/** Decodes the task vector of `model` for the block at `start` into scratch array 1. */
function blockDelta(desc: usize, shift: usize, scratch: usize, model: i32, start: i32, count: i32): usize {
  const dtype = <i32>modelWord(desc, model, M_DTYPE);
  const delta = scratch + BLOCK_BYTES;
  const source = <usize>modelWord(desc, model, M_PTR) + shift + <usize>start * elementBytes(dtype);
  decodeBlock(source, dtype, count, delta);
  if ((word(desc, H_FLAGS) & FLAG_HAS_BASE) == 0) return delta;
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(delta + at, f32x4.sub(v128.load(delta + at), v128.load(scratch + at)));
  }
  return delta;
}

function decodeBase(desc: usize, shift: usize, scratch: usize, start: i32, count: i32): void {
  if ((word(desc, H_FLAGS) & FLAG_HAS_BASE) == 0) return;
  const dtype = <i32>word(desc, H_BASE_DTYPE);
  decodeBlock(
    <usize>word(desc, H_BASE_PTR) + shift + <usize>start * elementBytes(dtype),
    dtype,
    count,
    scratch,
  );
}

function isMagnitude(desc: usize, model: i32): bool {
  return modelWord(desc, model, M_MODE) == MODE_MAGNITUDE;
}

/** Exported: adds each magnitude model's high-key histogram (at hists + m·HIGH_BYTES). */
export function cutHistogramHigh(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  hists: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    decodeBase(desc, shift, scratch, start, count);
    for (let m = 0; m < models; m++) {
      if (!isMagnitude(desc, m)) continue;
      histogramHigh(blockDelta(desc, shift, scratch, m, start, count), count, hists + <usize>m * HIGH_BYTES);
    }
  }
}

/**
 * Exported: adds low-key histograms of the elements in each model's cut buckets (`buckets` holds
 * two u32 per model, upper then lower; 0xFFFFFFFF = no cut) to hists + (2m + c)·LOW_BYTES.
 */
export function cutHistogramLow(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  buckets: usize,
  hists: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    decodeBase(desc, shift, scratch, start, count);
    for (let m = 0; m < models; m++) {
      if (!isMagnitude(desc, m)) continue;
      const delta = blockDelta(desc, shift, scratch, m, start, count);
      for (let c = 0; c < 2; c++) {
        const bucket = load<u32>(buckets + ((<usize>(m * 2 + c)) << 2));
        if (bucket == 0xffffffff) continue;
        histogramLow(delta, count, bucket, hists + <usize>(m * 2 + c) * LOW_BYTES);
      }
    }
  }
}

/** Exported: per model, how many elements have the upper / lower cut key (2 u32 per model at `out`). */
export function cutCountEqual(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  out: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  memory.fill(out, 0, (<usize>models) << 3);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    decodeBase(desc, shift, scratch, start, count);
    for (let m = 0; m < models; m++) {
      if (!isMagnitude(desc, m)) continue;
      const delta = blockDelta(desc, shift, scratch, m, start, count);
      const slot = out + ((<usize>m) << 3);
      store<u32>(slot, load<u32>(slot) + countKey(delta, count, modelWord(desc, m, M_UPPER_KEY)));
      store<u32>(slot, load<u32>(slot, 4) + countKey(delta, count, modelWord(desc, m, M_LOWER_KEY)), 4);
    }
  }
}
