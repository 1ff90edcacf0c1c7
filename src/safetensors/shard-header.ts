/**
 * A shard's header as the writer writes it: the byte-exact layout that the shard's sha256, the
 * published files' checks and verify's re-created shards all depend on.
 */
import { plannedSize, type PlannedTensor } from "./shard-plan.js";

/**
 * A shard's header: the length prefix and JSON with `__metadata__` first, then the tensors in
 * order, padded with spaces so that the data starts at a multiple of 8 bytes.
 */
export function encodeShardHeader(tensors: PlannedTensor[], metadata: Record<string, string>): Uint8Array {
  // Built as text rather than an object so that any tensor name (even "__proto__") is safe.
  const entries = [`"__metadata__":${JSON.stringify(metadata)}`];
  let offset = 0;
  for (const tensor of tensors) {
    const end = offset + plannedSize(tensor);
    const info = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, end] };
    entries.push(`${JSON.stringify(tensor.name)}:${JSON.stringify(info)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(",")}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return header;
}

/** The `__metadata__` every shard carries: the given entries plus `format: "pt"`, keys sorted. */
export function shardMetadata(metadata: Record<string, string> = {}): Record<string, string> {
  return sortedMetadata({ ...metadata, format: "pt" });
}

function sortedMetadata(metadata: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(metadata).sort()) {
    Object.defineProperty(sorted, key, {
      value: metadata[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return sorted;
}
