/** Writes task descriptors (layout in abi.ts) into the shared memory. */
import type { FloatDType } from "../../../safetensors/dtype.js";
import {
  DTYPE_CODE,
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  FLAG_SELECT,
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
import type { KernelPlan, ModelSparsity, TaskPlan } from "../plan.js";

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

/** The descriptor of a merge: the header and the model records, as the plan's kernels read them. */
export function writeDescriptor(
  target: DescriptorTarget,
  plan: KernelPlan,
  regions: DescriptorRegions,
): void {
  const { words, floats } = target;
  const first = target.at >>> 2;
  const models = regions.models.length;
  words.fill(0, first, first + descriptorWords(models));
  words[first + HEADER.models] = models;
  words[first + HEADER.baseDtype] = regions.baseDtype === undefined ? 0 : DTYPE_CODE[regions.baseDtype];
  words[first + HEADER.outDtype] = DTYPE_CODE[regions.outDtype];
  words[first + HEADER.basePtr] = regions.base ?? 0;
  words[first + HEADER.outPtr] = regions.output;
  regions.models.forEach((ptr, m) => {
    const record = first + HEADER_WORDS + m * MODEL_WORDS;
    words[record + MODEL.ptr] = ptr;
    words[record + MODEL.dtype] = DTYPE_CODE[regions.modelDtypes[m]!];
  });
  if (plan.kind === "nearswap") {
    words[first + HEADER.flags] = FLAG_HAS_BASE;
    floats[first + HEADER.nearswapT] = plan.t;
    floats[first + HEADER.floor] = plan.minDistance;
  } else if (plan.kind === "sce") {
    words[first + HEADER.flags] = FLAG_HAS_BASE; // FLAG_SELECT and the weights: writeSelect, writeWeights
    floats[first + HEADER.floor] = plan.divisorFloor;
  } else {
    writeTaskPlan(target, plan);
  }
}

function writeTaskPlan(target: DescriptorTarget, plan: TaskPlan): void {
  const { words, floats } = target;
  const first = target.at >>> 2;
  words[first + HEADER.flags] =
    (plan.hasBase ? FLAG_HAS_BASE : 0) |
    (plan.consensus ? FLAG_CONSENSUS : 0) |
    (plan.normalize ? FLAG_NORMALIZE : 0);
  floats[first + HEADER.lambda] = plan.lambda;
  floats[first + HEADER.plainDivisor] = plan.plainDivisor;
  plan.terms.forEach((term, m) => {
    const record = first + HEADER_WORDS + m * MODEL_WORDS;
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

/**
 * SCE's variance cut: positions whose variance key is above `cut.key`, and the first `cut.take`
 * equal to it, keep their task vectors; undefined selects every position (no FLAG_SELECT).
 */
export function writeSelect(target: DescriptorTarget, cut: CutWords | undefined): void {
  const first = target.at >>> 2;
  if (!cut) {
    target.words[first + HEADER.flags]! &= ~FLAG_SELECT;
    return;
  }
  target.words[first + HEADER.flags]! |= FLAG_SELECT;
  target.words[first + HEADER.selectKey] = cut.key;
  target.words[first + HEADER.selectTake] = cut.take;
}

/** SCE's model weights (f32), into each model's record. */
export function writeWeights(target: DescriptorTarget, weights: readonly number[]): void {
  const first = target.at >>> 2;
  weights.forEach(
    (weight, m) => (target.floats[first + HEADER_WORDS + m * MODEL_WORDS + MODEL.weight] = weight),
  );
}
