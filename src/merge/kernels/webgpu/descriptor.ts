/**
 * The words the GPU kernels read (wgsl/tensor-kernels.ts is the other half): a storage buffer
 * with a header and one record per model, and a small uniform per chunk. Built from the same
 * TaskPlan as the WebAssembly backend (kernels/wasm/task-plan.ts), so both accelerate exactly the
 * same methods and parameters (SCE excepted: the GPU declines it, see merge-request.ts).
 */
import type { FloatDType } from "../../../safetensors/dtype.js";
import type { NearswapPlan, TaskPlan } from "../plan.js";

// The codes both backends share; the record layouts below are the GPU's own.
export {
  DTYPE_CODE,
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  MODE_DARE,
  MODE_DENSE,
  MODE_MAGNITUDE,
} from "../wasm/abi.js";
import {
  DTYPE_CODE,
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  MODE_DARE,
  MODE_MAGNITUDE,
} from "../wasm/abi.js";

export const HEADER = {
  models: 0,
  flags: 1,
  baseDtype: 2,
  outDtype: 3,
  baseOffset: 4,
  lambda: 5,
  plainDivisor: 6,
  /** NearSwap: f32(t) and the distance floor. */
  nearswapT: 7,
  nearswapFloor: 8,
} as const;
export const HEADER_WORDS = 12;

export const MODEL = {
  offset: 0,
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
  upperBound: 12,
  lowerKey: 13,
  lowerBound: 14,
  histogram: 15,
  upperBucket: 16,
  lowerBucket: 17,
  countUpper: 18,
  countLower: 19,
} as const;
export const MODEL_WORDS = 20;

/** No bucket / no key: larger than every order key (keys are at most 0x7F800001). */
export const NONE = 0xffffffff;
export const HIGH_BUCKETS = 32768;
export const LOW_SLOTS = 65536;

/** Elements per invocation (one Philox block) and per workgroup (64 invocations). */
export const QUAD = 4;
export const WORKGROUP_ELEMENTS = 256;

/** The words of the per-chunk uniform: start element, length, count segments per chunk, opcode. */
export const CHUNK_WORDS = 4;

/** Where each input lives in the packed input buffer of a chunk, in u32 words. */
export interface SectionOffsets {
  base: number | undefined;
  models: readonly number[];
}

const scratch = new DataView(new ArrayBuffer(4));

export function f32Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  return scratch.getUint32(0, true);
}

/**
 * The descriptor of one tensor merge. Magnitude cuts start as "keep everything" upper ends and
 * "exclude nothing" lower ends; the cut search rewrites them.
 */
export function buildDescriptor(
  plan: TaskPlan | NearswapPlan,
  dtypes: { base?: FloatDType; models: readonly FloatDType[]; out: FloatDType },
  offsets: SectionOffsets,
): Uint32Array {
  const models = dtypes.models.length;
  const words = new Uint32Array(HEADER_WORDS + models * MODEL_WORDS);
  words[HEADER.models] = models;
  words[HEADER.baseDtype] = DTYPE_CODE[dtypes.base ?? "F32"];
  words[HEADER.outDtype] = DTYPE_CODE[dtypes.out];
  words[HEADER.baseOffset] = offsets.base ?? 0;
  for (let m = 0; m < models; m++) {
    const record = words.subarray(HEADER_WORDS + m * MODEL_WORDS, HEADER_WORDS + (m + 1) * MODEL_WORDS);
    record[MODEL.offset] = offsets.models[m]!;
    record[MODEL.dtype] = DTYPE_CODE[dtypes.models[m]!];
    record[MODEL.upperKey] = 0;
    record[MODEL.upperBound] = NONE;
    record[MODEL.lowerKey] = NONE;
    record[MODEL.lowerBound] = 0;
    record[MODEL.upperBucket] = NONE;
    record[MODEL.lowerBucket] = NONE;
  }
  if (plan.kind === "nearswap") {
    words[HEADER.flags] = FLAG_HAS_BASE;
    words[HEADER.nearswapT] = f32Bits(plan.t);
    words[HEADER.nearswapFloor] = f32Bits(plan.minDistance);
    return words;
  }
  words[HEADER.flags] =
    (plan.hasBase ? FLAG_HAS_BASE : 0) |
    (plan.consensus ? FLAG_CONSENSUS : 0) |
    (plan.normalize ? FLAG_NORMALIZE : 0);
  words[HEADER.lambda] = f32Bits(plan.lambda);
  words[HEADER.plainDivisor] = f32Bits(plan.plainDivisor);
  plan.terms.forEach((term, m) => {
    const at = HEADER_WORDS + m * MODEL_WORDS;
    const record = words.subarray(at, at + MODEL_WORDS);
    record[MODEL.weight] = f32Bits(term.weight);
    const sparsity = term.sparsity;
    if (sparsity.mode === "dare") {
      record[MODEL.mode] = MODE_DARE;
      record[MODEL.threshold] = sparsity.threshold;
      record[MODEL.rescale] = sparsity.rescale ? 1 : 0;
      record[MODEL.divisor] = f32Bits(sparsity.divisor);
      [record[MODEL.key0], record[MODEL.key1]] = sparsity.key;
      [record[MODEL.stream0], record[MODEL.stream1]] = sparsity.stream;
    } else if (sparsity.mode === "magnitude") {
      record[MODEL.mode] = MODE_MAGNITUDE;
    }
  });
  return words;
}

/** Index of word `field` of model `m`'s record. */
export function modelWord(m: number, field: number): number {
  return HEADER_WORDS + m * MODEL_WORDS + field;
}
