/**
 * SCE's kernels (src/merge/methods/sce.ts and kernels/reference/sce-primitives.ts are the
 * specification). Every pass works block by block on elements [from, to) of a window:
 *
 * - the task vectors δᵢ = f32(θᵢ − θ₀) and their variance across the models, per element in f64
 *   (Σδ / N, then Σ(δ − μ)² / N, models in order from +0) rounded once to f32;
 * - the select passes histogram the variances' order keys (as magnitude top-k does) and count the
 *   elements equal to the cut; the descriptor then holds the cut, and FLAG_SELECT zeroes every δᵢ
 *   outside it (equal keys: the first `take` in index order, counted in the state's first word);
 * - sceSumSquares continues each model's f64 sum of δᵢ² in index order (the reduction blocks of
 *   reductions.ts are cut by the caller: a chunk never straddles one);
 * - sceMergeChunk: sign election by the f32 sum, agreeing f32(wᵢ·δᵢ) and wᵢ summed, divided by
 *   max(Σw, floor) (the descriptor's f32 floor: mergekit's 1e-6), added to θ₀.
 *
 * Two NaNs that meet in an operation are always the canonical NaN of a NaN weight (see
 * sce-primitives.ts), or the result is only compared (variance, sign election), so operand order
 * never picks a payload.
 *
 * Scratch arrays: base | variance | (unused) | mixed | δ of model 0 | … | δ of model N−1.
 * The state (per worker): u32 select counter, u32 unused, then one f64 partial sum per model.
 */
import {
  BLOCK,
  FIXED_SCRATCH_ARRAYS,
  FLAG_SELECT,
  H_BASE_DTYPE,
  H_BASE_PTR,
  H_FLAGS,
  H_FLOOR,
  H_MODELS,
  H_OUT_DTYPE,
  H_OUT_PTR,
  H_SELECT_KEY,
  H_SELECT_TAKE,
  M_DTYPE,
  M_PTR,
  M_WEIGHT,
} from "./abi";
import { decodeBlock, elementBytes, encodeBlock, load4 } from "./convert";
import { modelWord, modelWordF32, word, wordF32 } from "./descriptor";
import { countKey, histogramHigh, histogramLow, laneMask, magnitudeKeys, takeEqualLanes } from "./magnitude";

const BLOCK_BYTES: usize = (<usize>BLOCK) << 2;
/** A cut key above every order key: no position is selected. */
const NO_KEY: u32 = 0xffffffff;

function scratchArray(scratch: usize, index: i32): usize {
  return scratch + <usize>index * BLOCK_BYTES;
}

function deltaArray(scratch: usize, model: i32): usize {
  return scratchArray(scratch, FIXED_SCRATCH_ARRAYS + model);
}

/** The base into scratch 0 and every δᵢ = f32(θᵢ − θ₀) into its array, for the block at `start`. */
function loadDeltas(desc: usize, shift: usize, scratch: usize, start: i32, count: i32): void {
  const baseDtype = <i32>word(desc, H_BASE_DTYPE);
  const base = scratchArray(scratch, 0);
  decodeBlock(
    <usize>word(desc, H_BASE_PTR) + shift + <usize>start * elementBytes(baseDtype),
    baseDtype,
    count,
    base,
  );
  const models = <i32>word(desc, H_MODELS);
  for (let m = 0; m < models; m++) {
    const dtype = <i32>modelWord(desc, m, M_DTYPE);
    const source = <usize>modelWord(desc, m, M_PTR) + shift + <usize>start * elementBytes(dtype);
    const delta = deltaArray(scratch, m);
    for (let i = 0; i < count; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(delta + at, f32x4.sub(load4(source, dtype, i), v128.load(base + at)));
    }
  }
}

/** The two f64 lanes of f32 lanes 2 and 3. */
function promoteHigh(values: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(values, values, 2, 3, 2, 3));
}

/** f32(Σ(δ − μ)² / N) with μ = Σδ / N, all in f64, into scratch 1 (count rounded up to 4). */
function blockVariance(scratch: usize, models: i32, count: i32): usize {
  const out = scratchArray(scratch, 1);
  const n = f64x2.splat(<f64>models);
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    let sumLo = f64x2.splat(0);
    let sumHi = f64x2.splat(0);
    for (let m = 0; m < models; m++) {
      const values = v128.load(deltaArray(scratch, m) + at);
      sumLo = f64x2.add(sumLo, f64x2.promote_low_f32x4(values));
      sumHi = f64x2.add(sumHi, promoteHigh(values));
    }
    const meanLo = f64x2.div(sumLo, n);
    const meanHi = f64x2.div(sumHi, n);
    let squaresLo = f64x2.splat(0);
    let squaresHi = f64x2.splat(0);
    for (let m = 0; m < models; m++) {
      const values = v128.load(deltaArray(scratch, m) + at);
      const lo = f64x2.sub(f64x2.promote_low_f32x4(values), meanLo);
      const hi = f64x2.sub(promoteHigh(values), meanHi);
      squaresLo = f64x2.add(squaresLo, f64x2.mul(lo, lo));
      squaresHi = f64x2.add(squaresHi, f64x2.mul(hi, hi));
    }
    const lo = f32x4.demote_f64x2_zero(f64x2.div(squaresLo, n));
    const hi = f32x4.demote_f64x2_zero(f64x2.div(squaresHi, n));
    v128.store(out + at, i32x4.shuffle(lo, hi, 0, 1, 4, 5));
  }
  return out;
}

/** Loads the block's deltas and, with FLAG_SELECT, zeroes every δᵢ outside the variance cut. */
function selectedDeltas(
  desc: usize,
  shift: usize,
  scratch: usize,
  start: i32,
  count: i32,
  state: usize,
): void {
  loadDeltas(desc, shift, scratch, start, count);
  if ((word(desc, H_FLAGS) & FLAG_SELECT) == 0) return;
  const models = <i32>word(desc, H_MODELS);
  const key = word(desc, H_SELECT_KEY);
  const take = word(desc, H_SELECT_TAKE);
  if (key == NO_KEY) {
    // Nothing selected (select_topk 0, or k = 0): no variance needed to zero every δᵢ.
    for (let m = 0; m < models; m++) memory.fill(deltaArray(scratch, m), 0, (<usize>((count + 3) & ~3)) << 2);
    return;
  }
  const variance = blockVariance(scratch, models, count);
  const cutKey = i32x4.splat(<i32>key);
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    const keys = magnitudeKeys(v128.load(variance + at));
    let keep = i32x4.gt_u(keys, cutKey);
    const equal = i32x4.bitmask(i32x4.eq(keys, cutKey));
    if (equal != 0) keep = v128.or(keep, laneMask(takeEqualLanes(equal, state, take)));
    for (let m = 0; m < models; m++) {
      const delta = deltaArray(scratch, m) + at;
      v128.store(delta, v128.and(v128.load(delta), keep));
    }
  }
}

/**
 * Exported: adds the high 15 bits of the variances' order keys to `hist` (32768 u32); returns how
 * many variances are zero.
 */
export function sceHistogramHigh(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  hist: usize,
): u32 {
  const models = <i32>word(desc, H_MODELS);
  let zeros: u32 = 0;
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    loadDeltas(desc, shift, scratch, start, count);
    const variance = blockVariance(scratch, models, count);
    histogramHigh(variance, count, hist);
    zeros += countKey(variance, count, 0);
  }
  return zeros;
}

/** Exported: adds the low 16 bits of the variance keys in high bucket `bucket` to `hist` (65536 u32). */
export function sceHistogramLow(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  bucket: u32,
  hist: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    loadDeltas(desc, shift, scratch, start, count);
    histogramLow(blockVariance(scratch, models, count), count, bucket, hist);
  }
}

/** Exported: how many variances have the cut's order key (the descriptor's H_SELECT_KEY). */
export function sceCountEqual(desc: usize, shift: usize, from: i32, to: i32, scratch: usize): u32 {
  const models = <i32>word(desc, H_MODELS);
  const key = word(desc, H_SELECT_KEY);
  let found: u32 = 0;
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    loadDeltas(desc, shift, scratch, start, count);
    found += countKey(blockVariance(scratch, models, count), count, key);
  }
  return found;
}

/**
 * Exported: continues each model's f64 partial sum of δᵢ² (at state + 8 + 8i) over the selected
 * task vectors, in index order: partial += f64(δ)·f64(δ). (A NaN sum makes a NaN weight, which
 * the host makes the canonical NaN, so its payload does not matter.)
 */
export function sceSumSquares(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  state: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    selectedDeltas(desc, shift, scratch, start, count, state);
    for (let m = 0; m < models; m++) {
      const delta = deltaArray(scratch, m);
      const slot = state + 8 + ((<usize>m) << 3);
      let partial = load<f64>(slot);
      for (let i = 0; i < count; i++) {
        const x = <f64>load<f32>(delta + ((<usize>i) << 2));
        partial = x * x + partial;
      }
      store<f64>(slot, partial);
    }
  }
}

/**
 * Exported: merges elements [from, to) of the window into the output region: sign election (s = +1
 * iff the f32 Σδᵢ ≥ 0), then over the models whose δᵢ has sign s, M = Σ f32(wᵢ·δᵢ) and
 * D = Σ wᵢ (f32, from +0), out = f32(θ₀ + f32(M / max(D, floor))).
 */
export function sceMergeChunk(
  desc: usize,
  shift: usize,
  from: i32,
  to: i32,
  scratch: usize,
  state: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  const outDtype = <i32>word(desc, H_OUT_DTYPE);
  const base = scratchArray(scratch, 0);
  const mixed = scratchArray(scratch, 3);
  const zero = f32x4.splat(0);
  const floor = f32x4.splat(wordF32(desc, H_FLOOR));
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    selectedDeltas(desc, shift, scratch, start, count, state);
    for (let i = 0; i < count; i += 4) {
      const at = (<usize>i) << 2;
      let total = zero;
      for (let m = 0; m < models; m++) total = f32x4.add(v128.load(deltaArray(scratch, m) + at), total);
      const positive = f32x4.ge(total, zero);
      let sum = zero;
      let weights = zero;
      for (let m = 0; m < models; m++) {
        const delta = v128.load(deltaArray(scratch, m) + at);
        const weight = f32x4.splat(modelWordF32(desc, m, M_WEIGHT));
        const agree = v128.bitselect(f32x4.gt(delta, zero), f32x4.lt(delta, zero), positive);
        sum = v128.bitselect(f32x4.add(f32x4.mul(delta, weight), sum), sum, agree);
        weights = v128.bitselect(f32x4.add(weight, weights), weights, agree);
      }
      const divisor = v128.bitselect(floor, weights, f32x4.lt(weights, floor));
      v128.store(mixed + at, f32x4.add(f32x4.div(sum, divisor), v128.load(base + at)));
    }
    const out = <usize>word(desc, H_OUT_PTR) + shift + <usize>start * elementBytes(outDtype);
    encodeBlock(mixed, count, outDtype, out);
  }
}
