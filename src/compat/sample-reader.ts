/**
 * Range reads of a few blocks of a tensor, decoded to f32, counting every byte read: the probe's
 * only I/O, through the model's already-open shards.
 */
import type { LoadedModel } from "../merge/loaded-model.js";
import { DTYPE_SIZE, decodeToF32 } from "../safetensors/dtype.js";
import type { SampleBlock } from "./probe-sample.js";

export class SampleReader {
  /** Bytes read so far. */
  bytesRead = 0;

  constructor(private readonly model: LoadedModel) {}

  /** The blocks of `tensor`, clipped to its `elements` and concatenated, as f32. */
  async read(tensor: string, blocks: readonly SampleBlock[]): Promise<Float32Array> {
    const info = this.model.tensors.info(tensor);
    const size = DTYPE_SIZE[info.dtype];
    const parts = await Promise.all(
      blocks.map(async (block) => {
        const bytes = await this.model.tensors.readTensorRange(
          tensor,
          block.offset * size,
          block.length * size,
        );
        this.bytesRead += bytes.byteLength;
        return decodeToF32(bytes, info.dtype);
      }),
    );
    return concat(parts);
  }

  /** Nothing of its own to release: the model's shards stay open for the merge. */
  async close(): Promise<void> {}
}

function concat(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
