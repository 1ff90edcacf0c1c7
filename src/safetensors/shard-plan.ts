/**
 * The shard layout of an output, planned before any byte is written: which tensors go to which
 * shard file, in which order, and how many bytes each holds. The writer, the index, verify's
 * re-creation and the parts of a split merge all follow the same plan.
 */
import { HubmergeError } from "../errors.js";
import type { DType, FloatDType } from "./dtype.js";
import { byteSize } from "./header.js";

export interface PlannedTensor {
  name: string;
  dtype: FloatDType | DType;
  shape: number[];
}

export interface PlannedShard {
  file: string;
  tensors: PlannedTensor[];
  /** Bytes of tensor data in the shard (the header not counted, as transformers counts). */
  size: number;
}

export interface ShardPlan {
  files: PlannedShard[];
  /** Sum of tensor byte sizes: the index's metadata.total_size. */
  totalSize: number;
}

/** mergekit's and transformers' default: 5 GB (decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/**
 * Splits tensors, in the given order, into shards of at most `maxShardBytes` of data each; a
 * tensor larger than the cap gets a shard of its own.
 */
export function planShards(tensors: PlannedTensor[], maxShardBytes = DEFAULT_MAX_SHARD_BYTES): ShardPlan {
  if (!(Number.isSafeInteger(maxShardBytes) && maxShardBytes > 0)) {
    throw new HubmergeError(
      "E_USAGE",
      `the shard size limit must be a positive integer, got ${maxShardBytes}`,
    );
  }
  checkUniqueNames(tensors);
  const groups: { tensors: PlannedTensor[]; size: number }[] = [];
  let current: { tensors: PlannedTensor[]; size: number } | undefined;
  for (const tensor of tensors) {
    const size = plannedSize(tensor);
    if (!current || (current.tensors.length > 0 && current.size + size > maxShardBytes)) {
      current = { tensors: [], size: 0 };
      groups.push(current);
    }
    current.tensors.push(tensor);
    current.size += size;
  }
  if (groups.length === 0) groups.push({ tensors: [], size: 0 });
  const files = groups.map((group, i) => ({ file: shardFileName(i, groups.length), ...group }));
  return { files, totalSize: files.reduce((sum, shard) => sum + shard.size, 0) };
}

/** `model.safetensors` alone, else `model-00001-of-00003.safetensors` (transformers' names). */
export function shardFileName(index: number, count: number): string {
  if (count === 1) return "model.safetensors";
  const pad = (n: number): string => String(n).padStart(5, "0");
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/** Bytes of a planned tensor's data. */
export function plannedSize(tensor: PlannedTensor): number {
  const size = byteSize(tensor.shape, tensor.dtype);
  if (size === undefined || !tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new HubmergeError(
      "E_INTERNAL",
      `tensor "${tensor.name}" has an invalid shape [${tensor.shape.join(", ")}]`,
    );
  }
  return size;
}

/** A plan names each tensor once, and never `__metadata__` (the header's own key). */
export function checkUniqueNames(tensors: PlannedTensor[]): void {
  const seen = new Set<string>();
  for (const { name } of tensors) {
    if (name === "__metadata__") throw planError(`"__metadata__" cannot be a tensor name`);
    if (seen.has(name)) throw planError(`tensor "${name}" appears twice in the shard plan`);
    seen.add(name);
  }
}

// Worded as the writer's errors are: a bad plan is a bug in whoever made it, found while writing.
function planError(message: string): HubmergeError {
  return new HubmergeError("E_INTERNAL", `safetensors writer: ${message}`);
}
