/** Writes task descriptors (layout in abi.ts) into the shared memory. */
import type { FloatDType } from "../../../safetensors/dtype.js";
import {
  DTYPE_CODE,
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  HEADER,
  HEADER_WORDS,
  MODE_DARE,
  MODE_DENSE,
  MODE_MAGNITUDE,
  MODEL,
  MODEL_WORDS,
  descriptorWords,
} from "./abi.js";
import type { CutWords } from "./magnitude-cuts.js";
import type { ModelSparsity, TaskPlan } from "../plan.js";

export interface DescriptorTarget {
  words: Uint32Array;
  floats: Float32Array;
  /** Byte address of the descriptor. */
  at: number;
}

export interface DescriptorRegions {
  /** Byte addresses in window buffer 0. */
  base: number | undefined;
  models: readonly number[];
  output: number;
  baseDtype: FloatDType | undefined;
  modelDtypes: readonly FloatDType[];
  outDtype: FloatDType;
}

export function writeDescriptor(target: DescriptorTarget, plan: TaskPlan, regions: DescriptorRegions): void {
  const { words, floats } = target;
  const first = target.at >>> 2;
  words.fill(0, first, first + descriptorWords(plan.terms.length));
  words[first + HEADER.models] = plan.terms.length;
  words[first + HEADER.flags] =
    (plan.hasBase ? FLAG_HAS_BASE : 0) |
    (plan.consensus ? FLAG_CONSENSUS : 0) |
    (plan.normalize ? FLAG_NORMALIZE : 0);
  words[first + HEADER.baseDtype] = regions.baseDtype === undefined ? 0 : DTYPE_CODE[regions.baseDtype];
  words[first + HEADER.outDtype] = DTYPE_CODE[regions.outDtype];
  words[first + HEADER.basePtr] = regions.base ?? 0;
  words[first + HEADER.outPtr] = regions.output;
  floats[first + HEADER.lambda] = plan.lambda;
  floats[first + HEADER.plainDivisor] = plan.plainDivisor;
  plan.terms.forEach((term, m) => {
    const record = first + HEADER_WORDS + m * MODEL_WORDS;
    words[record + MODEL.ptr] = regions.models[m]!;
    words[record + MODEL.dtype] = DTYPE_CODE[regions.modelDtypes[m]!];
    floats[record + MODEL.weight] = term.weight;
    writeSparsity(words, floats, record, term.sparsity);
  });
}

function writeSparsity(
  words: Uint32Array,
  floats: Float32Array,
  record: number,
  sparsity: ModelSparsity,
): void {
  if (sparsity.mode === "dense") {
    words[record + MODEL.mode] = MODE_DENSE;
  } else if (sparsity.mode === "dare") {
    words[record + MODEL.mode] = MODE_DARE;
    words[record + MODEL.threshold] = sparsity.threshold;
    words[record + MODEL.rescale] = sparsity.rescale ? 1 : 0;
    floats[record + MODEL.divisor] = sparsity.divisor;
    words[record + MODEL.key0] = sparsity.key[0];
    words[record + MODEL.key1] = sparsity.key[1];
    words[record + MODEL.stream0] = sparsity.stream[0];
    words[record + MODEL.stream1] = sparsity.stream[1];
  } else {
    words[record + MODEL.mode] = MODE_MAGNITUDE;
  }
}

/** Sets the two ends of model `m`'s magnitude rank range. */
export function writeCuts(target: DescriptorTarget, m: number, upper: CutWords, lower: CutWords): void {
  const record = (target.at >>> 2) + HEADER_WORDS + m * MODEL_WORDS;
  target.words[record + MODEL.upperKey] = upper.key;
  target.words[record + MODEL.upperTake] = upper.take;
  target.words[record + MODEL.lowerKey] = lower.key;
  target.words[record + MODEL.lowerTake] = lower.take;
}
