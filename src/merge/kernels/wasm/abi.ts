/**
 * The memory layout shared with the WebAssembly kernels (asm/abi.ts is the other half; a test
 * checks that both agree). A task descriptor is a run of u32 words: a header, then one record of
 * MODEL_WORDS words per model.
 */
import type { FloatDType } from "../../../safetensors/dtype.js";

export const DTYPE_CODE: Readonly<Record<FloatDType, number>> = { F32: 0, F16: 1, BF16: 2 };

export const HEADER = {
  models: 0,
  flags: 1,
  baseDtype: 2,
  outDtype: 3,
  basePtr: 4,
  outPtr: 5,
  lambda: 6,
  plainDivisor: 7,
  /** SCE: the variance cut (order key, and how many elements equal to it are kept). */
  selectKey: 8,
  selectTake: 9,
  /** NearSwap: f32(t). */
  nearswapT: 10,
  /** NearSwap: the distance floor; SCE: the divisor floor (f32). */
  floor: 11,
} as const;
export const HEADER_WORDS = 12;

export const FLAG_HAS_BASE = 1;
export const FLAG_CONSENSUS = 2;
export const FLAG_NORMALIZE = 4;
/** SCE: positions outside the variance cut are zeroed in every task vector. */
export const FLAG_SELECT = 8;

export const MODEL = {
  ptr: 0,
  dtype: 1,
  mode: 2,
  weight: 3,
  threshold: 4,
  rescale: 5,
  divisor: 6,
  key0: 7,
  key1: 8,
  stream0: 9,
  stream1: 10,
  upperKey: 11,
  upperTake: 12,
  lowerKey: 13,
  lowerTake: 14,
} as const;
export const MODEL_WORDS = 16;

export const MODE_DENSE = 0;
export const MODE_DARE = 1;
export const MODE_MAGNITUDE = 2;

/** Elements per inner block of the kernels; scratch arrays hold one block each. */
export const BLOCK = 1024;
/** Scratch arrays before the per-model ones (base, model, uniforms, mixed). */
export const FIXED_SCRATCH_ARRAYS = 4;

export const HIGH_BUCKETS = 32768;
export const LOW_SLOTS = 65536;

/** A cut key no element has (keys are at most 0x7F800001): "no cut" for the lower end. */
export const NO_KEY = 0xffffffff;

/** Kernels process whole groups of 16 elements: tensor and window offsets are multiples of this. */
export const GROUP = 16;
/** Bytes after every region that the last group of a tensor may read or write. */
export const REGION_PADDING = 128;

export function descriptorWords(models: number): number {
  return HEADER_WORDS + models * MODEL_WORDS;
}
