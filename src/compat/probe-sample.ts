/**
 * Which parts of which tensors the delta probe reads: embeddings, then one attention and one
 * MLP matrix in a few layers spread over the stack, each at a few places spread over its rows,
 * sized so that no model reads more than the byte budget. Decided from headers alone.
 */
import { elementCount } from "../merge/kernels/layout.js";
import { layerIndexOf } from "../merge/layer-names.js";
import { isEmbeddingTensor } from "../merge/methods/task-family.js";
import { DTYPE_SIZE, isDecodableDType } from "../safetensors/dtype.js";
import type { TensorTable } from "./layout-diff.js";
import type { ProbeOptions } from "./thresholds.js";

/** A run of elements of a row-major tensor. */
export interface SampleBlock {
  offset: number;
  length: number;
}

export type TensorKind = "embedding" | "attention" | "mlp" | "other";

export interface SampledTensor {
  name: string;
  kind: TensorKind;
  /** Blocks in the reference's element order, ascending and disjoint. */
  blocks: SampleBlock[];
}

/** Bytes of the length prefix read once per shard to find where its data starts. */
export const SHARD_PREFIX_BYTES = 8;

const ATTENTION = /attn|attention/;
const MLP = /mlp|feed_forward|ffn/;

export interface SamplePlanInput {
  reference: TensorTable;
  referenceLayers: number;
  /** The other models' tensors: the element size must fit the widest dtype any of them uses. */
  others: readonly TensorTable[];
  options: ProbeOptions;
}

export function planProbeSample(input: SamplePlanInput): SampledTensor[] {
  const chosen = chooseTensors(input.reference, input.referenceLayers, input.options.layers);
  if (chosen.length === 0) return [];
  // Every tensor may sit in its own shard, whose prefix costs a read.
  const dataBudget = input.options.maxBytesPerModel - SHARD_PREFIX_BYTES * chosen.length;
  const perTensorBytes = Math.floor(dataBudget / chosen.length);
  return chosen.map(({ name, kind }) => {
    const shape = input.reference.get(name)!.shape;
    const elementSize = Math.max(
      ...[input.reference, ...input.others].map((t) => {
        const dtype = t.get(name)?.dtype;
        return dtype ? DTYPE_SIZE[dtype] : 1;
      }),
    );
    const budget = Math.floor(perTensorBytes / elementSize);
    return { name, kind, blocks: spreadBlocks(shape, budget, input.options.blocksPerTensor) };
  });
}

function chooseTensors(
  tensors: TensorTable,
  layerCount: number,
  layersWanted: number,
): { name: string; kind: TensorKind }[] {
  const matrices = [...tensors].filter(
    ([, t]) => t.shape.length >= 2 && isDecodableDType(t.dtype) && elementCount(t.shape) > 0,
  );
  const names = matrices.map(([name]) => name);
  const chosen: { name: string; kind: TensorKind }[] = names
    .filter((name) => isEmbeddingTensor(name) && layerIndexOf(name) === undefined)
    .slice(0, 2)
    .map((name) => ({ name, kind: "embedding" }));
  sampledLayers(layerCount, layersWanted).forEach((layer, ordinal) => {
    const inLayer = names.filter((name) => layerIndexOf(name) === layer);
    const attention = inLayer.filter((name) => ATTENTION.test(name));
    const mlp = inLayer.filter((name) => MLP.test(name) && !ATTENTION.test(name));
    // Rotate through q/k/v/o and gate/up/down from one sampled layer to the next.
    if (attention.length > 0)
      chosen.push({ name: attention[ordinal % attention.length]!, kind: "attention" });
    if (mlp.length > 0) chosen.push({ name: mlp[ordinal % mlp.length]!, kind: "mlp" });
    if (attention.length === 0 && mlp.length === 0 && inLayer.length > 0) {
      chosen.push({ name: inLayer[ordinal % inLayer.length]!, kind: "other" });
    }
  });
  return chosen;
}

/** `count` layer indices spread evenly from the first layer to the last. */
export function sampledLayers(layerCount: number, count: number): number[] {
  if (layerCount <= 0) return [];
  const k = Math.min(count, layerCount);
  if (k === 1) return [0];
  const layers = Array.from({ length: k }, (_, i) => Math.round((i * (layerCount - 1)) / (k - 1)));
  return [...new Set(layers)];
}

/**
 * Up to `count` disjoint blocks of `budget` elements in all, spread evenly over the tensor;
 * whole rows when a block can hold one, so the sample is a handful of rows.
 */
export function spreadBlocks(shape: readonly number[], budget: number, count: number): SampleBlock[] {
  const total = elementCount(shape);
  if (budget >= total) return [{ offset: 0, length: total }];
  if (budget <= 0) return [];
  const blocks = Math.min(count, budget);
  const rowLength = elementCount(shape.slice(1));
  let length = Math.floor(budget / blocks);
  const wholeRows = length >= rowLength;
  if (wholeRows) length -= length % rowLength;
  const result: SampleBlock[] = [];
  for (let b = 0; b < blocks; b++) {
    let offset = blocks === 1 ? 0 : Math.floor((b * (total - length)) / (blocks - 1));
    if (wholeRows) offset -= offset % rowLength;
    result.push({ offset, length });
  }
  return result;
}
