/**
 * The fused task-arithmetic-family kernel over elements [from, to) of a window: decode, task
 * vector, sparsify (DARE or magnitude cut), weight, sign consensus or plain sum, normalize,
 * λ and base, encode. Every f32 operation is the one src/merge/methods/task-family.ts performs,
 * in the same order and with the same operands first, so the bytes are the reference's.
 *
 * Work goes block by block (BLOCK elements) through a worker's scratch arrays:
 *   base | model | uniforms | mixed | weighted delta of model 0 | … of model N−1
 */
import {
  BLOCK,
  FIXED_SCRATCH_ARRAYS,
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  H_BASE_DTYPE,
  H_BASE_PTR,
  H_FLAGS,
  H_LAMBDA,
  H_MODELS,
  H_OUT_DTYPE,
  H_OUT_PTR,
  H_PLAIN_DIVISOR,
  M_DIVISOR,
  M_DTYPE,
  M_KEY0,
  M_KEY1,
  M_LOWER_KEY,
  M_LOWER_TAKE,
  M_MODE,
  M_PTR,
  M_RESCALE,
  M_STREAM0,
  M_STREAM1,
  M_THRESHOLD,
  M_UPPER_KEY,
  M_UPPER_TAKE,
  M_WEIGHT,
  MODE_DARE,
  MODE_MAGNITUDE,
} from "./abi";
import { modelWord, modelWordF32, word, wordF32 } from "./descriptor";
import { decodeBlock, elementBytes, encodeBlock, load4 } from "./convert";
import { laneMask, magnitudeKeys, takeEqualLanes } from "./magnitude";
import { philoxUniforms32 } from "./philox";

const BLOCK_BYTES: usize = (<usize>BLOCK) << 2;

function scratchArray(scratch: usize, index: i32): usize {
  return scratch + <usize>index * BLOCK_BYTES;
}

/** Address of element `index` of an input or output region. */
function elementAddress(ptr: usize, shift: usize, dtype: i32, index: i32): usize {
  return ptr + shift + <usize>index * elementBytes(dtype);
}

/** out = f32(θ − θ₀) (or θ without a base), elementwise over `count` (a multiple of 4 after rounding). */
function taskVector(model: usize, base: usize, hasBase: bool, count: i32): void {
  if (!hasBase) return;
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(model + at, f32x4.sub(v128.load(model + at), v128.load(base + at)));
  }
}

/** DARE's u24 uniforms of the block's elements (kept iff u24 < threshold; see fusedDelta). */
function dareUniforms(uniforms: usize, desc: usize, model: i32, first: u64, count: i32): void {
  const k0 = modelWord(desc, model, M_KEY0);
  const k1 = modelWord(desc, model, M_KEY1);
  const s0 = modelWord(desc, model, M_STREAM0);
  const s1 = modelWord(desc, model, M_STREAM1);
  for (let i = 0; i < count; i += 32) {
    philoxUniforms32(first + ((<u64>i) >> 2), k0, k1, s0, s1, uniforms + ((<usize>i) << 2));
  }
}

/**
 * Magnitude cut: keeps the elements whose rank in the "larger first" order lies in [lower, upper):
 * key above the upper cut (or equal and among its first `take`), and not so for the lower cut.
 * `counters` holds the two running counts of cut-equal elements (upper, lower).
 */
function magnitudeSparsify(delta: usize, desc: usize, model: i32, counters: usize, count: i32): void {
  const upperKey = i32x4.splat(<i32>modelWord(desc, model, M_UPPER_KEY));
  const lowerKey = i32x4.splat(<i32>modelWord(desc, model, M_LOWER_KEY));
  const upperTake = modelWord(desc, model, M_UPPER_TAKE);
  const lowerTake = modelWord(desc, model, M_LOWER_TAKE);
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    const values = v128.load(delta + at);
    const keys = magnitudeKeys(values);
    let inUpper = i32x4.gt_u(keys, upperKey);
    let inLower = i32x4.gt_u(keys, lowerKey);
    const equalUpper = i32x4.bitmask(i32x4.eq(keys, upperKey));
    const equalLower = i32x4.bitmask(i32x4.eq(keys, lowerKey));
    if ((equalUpper | equalLower) != 0) {
      inUpper = v128.or(inUpper, laneMask(takeEqualLanes(equalUpper, counters, upperTake)));
      inLower = v128.or(inLower, laneMask(takeEqualLanes(equalLower, counters + 4, lowerTake)));
    }
    v128.store(delta + at, v128.and(values, v128.andnot(inUpper, inLower)));
  }
}

/** values = f32(f32(w) · values). */
function weigh(values: usize, weight: f32, count: i32): void {
  const w = f32x4.splat(weight);
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(values + at, f32x4.mul(w, v128.load(values + at)));
  }
}

/**
 * mixed = f32(mixed + values). The operands are swapped on purpose: addition is commutative except
 * for which NaN comes out when both are NaN, and V8's JavaScript (the reference) returns the
 * second operand's NaN on x64 where a wasm add returns the first's.
 */
function accumulate(mixed: usize, values: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    v128.store(mixed + at, f32x4.add(v128.load(values + at), v128.load(mixed + at)));
  }
}

/**
 * TIES sign consensus over the weighted deltas, then normalize, λ and base, in one pass: the
 * majority s = +1 iff Σ ≥ 0 (NaN → −1); the models whose value has sign s add their value to the
 * mix and their weight to the divisor (0 → 1); the mix is divided by it (normalize), then
 * out = f32(θ₀ + f32(λ · mix)) with a base. The same operations, in the same order, as the
 * separate passes of a plain sum (finish); the result goes to `mixed`.
 */
function consensusFinish(scratch: usize, desc: usize, flags: u32, models: i32, count: i32): void {
  const base = scratchArray(scratch, 0);
  const mixed = scratchArray(scratch, 3);
  const normalize = (flags & FLAG_NORMALIZE) != 0;
  const hasBase = (flags & FLAG_HAS_BASE) != 0;
  const lambda = f32x4.splat(wordF32(desc, H_LAMBDA));
  const zero = f32x4.splat(0);
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    let total = zero;
    for (let m = 0; m < models; m++) {
      total = f32x4.add(total, v128.load(scratchArray(scratch, FIXED_SCRATCH_ARRAYS + m) + at));
    }
    const positive = f32x4.ge(total, zero);
    let sum = zero;
    let weights = zero;
    for (let m = 0; m < models; m++) {
      const value = v128.load(scratchArray(scratch, FIXED_SCRATCH_ARRAYS + m) + at);
      const agree = v128.bitselect(f32x4.gt(value, zero), f32x4.lt(value, zero), positive);
      const weight = f32x4.splat(modelWordF32(desc, m, M_WEIGHT));
      sum = v128.bitselect(f32x4.add(sum, value), sum, agree);
      weights = v128.bitselect(f32x4.add(weights, weight), weights, agree);
    }
    let result = sum;
    if (normalize) {
      result = f32x4.div(result, v128.bitselect(f32x4.splat(1), weights, f32x4.eq(weights, zero)));
    }
    // θ₀ + λ·M, operands swapped for the NaN reason given at accumulate().
    if (hasBase) result = f32x4.add(f32x4.mul(lambda, result), v128.load(base + at));
    v128.store(mixed + at, result);
  }
}

/** A plain sum's finish: normalize by the plain divisor, then out = f32(θ₀ + f32(λ · mixed)) with a base. */
function finish(scratch: usize, desc: usize, flags: u32, count: i32): void {
  const base = scratchArray(scratch, 0);
  const mixed = scratchArray(scratch, 3);
  if ((flags & FLAG_NORMALIZE) != 0) {
    const plain = f32x4.splat(wordF32(desc, H_PLAIN_DIVISOR));
    for (let i = 0; i < count; i += 4) {
      const at = (<usize>i) << 2;
      v128.store(mixed + at, f32x4.div(v128.load(mixed + at), plain));
    }
  }
  if ((flags & FLAG_HAS_BASE) == 0) return;
  const lambda = f32x4.splat(wordF32(desc, H_LAMBDA));
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    // θ₀ + λ·M, operands swapped for the NaN reason given at accumulate().
    v128.store(mixed + at, f32x4.add(f32x4.mul(lambda, v128.load(mixed + at)), v128.load(base + at)));
  }
}

/**
 * DARE and dense terms in one pass per block: decode, task vector, keep mask and rescale, weight.
 * The same f32 operations in the same order as the separate passes below (which magnitude cuts
 * still use), only without storing and reloading between them.
 */
function fusedDelta(
  source: usize,
  dtype: i32,
  base: usize,
  hasBase: bool,
  uniforms: usize,
  dare: bool,
  desc: usize,
  model: i32,
  count: i32,
  out: usize,
): void {
  const w = f32x4.splat(modelWordF32(desc, model, M_WEIGHT));
  const threshold = i32x4.splat(<i32>modelWord(desc, model, M_THRESHOLD));
  const rescale = dare && modelWord(desc, model, M_RESCALE) != 0;
  const divisor = f32x4.splat(modelWordF32(desc, model, M_DIVISOR));
  for (let i = 0; i < count; i += 4) {
    const at = (<usize>i) << 2;
    let value = load4(source, dtype, i);
    if (hasBase) value = f32x4.sub(value, v128.load(base + at));
    if (dare) {
      if (rescale) value = f32x4.div(value, divisor);
      value = v128.and(value, i32x4.lt_s(v128.load(uniforms + at), threshold));
    }
    v128.store(out + at, f32x4.mul(w, value));
  }
}

/** One model's weighted, sparsified task vector for a block, into `out`. */
function weightedDelta(
  desc: usize,
  shift: usize,
  scratch: usize,
  model: i32,
  start: i32,
  first: u64,
  count: i32,
  counters: usize,
  out: usize,
): void {
  const flags = word(desc, H_FLAGS);
  const hasBase = (flags & FLAG_HAS_BASE) != 0;
  const dtype = <i32>modelWord(desc, model, M_DTYPE);
  const source = elementAddress(<usize>modelWord(desc, model, M_PTR), shift, dtype, start);
  const mode = modelWord(desc, model, M_MODE);
  if (mode == MODE_MAGNITUDE) {
    decodeBlock(source, dtype, count, out);
    taskVector(out, scratchArray(scratch, 0), hasBase, count);
    magnitudeSparsify(out, desc, model, counters, count);
    weigh(out, modelWordF32(desc, model, M_WEIGHT), count);
    return;
  }
  const uniforms = scratchArray(scratch, 2);
  const dare = mode == MODE_DARE;
  if (dare) dareUniforms(uniforms, desc, model, first, count);
  fusedDelta(source, dtype, scratchArray(scratch, 0), hasBase, uniforms, dare, desc, model, count, out);
}

/**
 * Exported: merges elements [from, to) of the window whose element 0 is tensor element
 * `windowStart`. Region pointers in the descriptor are shifted by `shift` (the window buffer in
 * use). `counters` holds, per model, the cut-equal counts before `from` (2 u32, updated in place).
 * `from` and `windowStart` must be multiples of 16; the last block may read and write a few
 * elements past `to` (regions are padded).
 */
export function mergeChunk(
  desc: usize,
  shift: usize,
  windowStart: f64,
  from: i32,
  to: i32,
  scratch: usize,
  counters: usize,
): void {
  const models = <i32>word(desc, H_MODELS);
  const flags = word(desc, H_FLAGS);
  const baseDtype = <i32>word(desc, H_BASE_DTYPE);
  const outDtype = <i32>word(desc, H_OUT_DTYPE);
  const consensusMix = (flags & FLAG_CONSENSUS) != 0;
  const mixed = scratchArray(scratch, 3);
  for (let start = from; start < to; start += BLOCK) {
    const count = min(BLOCK, to - start);
    const first = (<u64>windowStart + <u64>start) >> 2;
    if ((flags & FLAG_HAS_BASE) != 0) {
      const base = elementAddress(<usize>word(desc, H_BASE_PTR), shift, baseDtype, start);
      decodeBlock(base, baseDtype, count, scratchArray(scratch, 0));
    }
    if (!consensusMix) memory.fill(mixed, 0, BLOCK_BYTES);
    for (let m = 0; m < models; m++) {
      const out = scratchArray(scratch, consensusMix ? FIXED_SCRATCH_ARRAYS + m : 1);
      weightedDelta(desc, shift, scratch, m, start, first, count, counters + ((<usize>m) << 3), out);
      if (!consensusMix) accumulate(mixed, out, count);
    }
    if (consensusMix) consensusFinish(scratch, desc, flags, models, count);
    else finish(scratch, desc, flags, count);
    encodeBlock(mixed, count, outDtype, elementAddress(<usize>word(desc, H_OUT_PTR), shift, outDtype, start));
  }
}
