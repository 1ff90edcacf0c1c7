/**
 * The packed input buffers of a tensor's chunks (base, then every model, each at its section
 * offset). A chunk is uploaded when a pass first needs it; with `capacity` ≥ the chunk count every
 * chunk stays on the device for the later passes (magnitude cuts read the tensor up to four
 * times), otherwise buffers rotate. Uploads are queued writes: the CPU copies chunk c+1 while the
 * GPU still computes chunk c, and the queue's order makes reusing a buffer safe.
 */
import { DTYPE_SIZE, type FloatDType } from "../../../safetensors/dtype.js";
import type { Chunk, ChunkLayout } from "./chunk-layout.js";
import type { GpuContext } from "./gpu-context.js";

export interface PackedInput {
  bytes: Uint8Array;
  dtype: FloatDType;
  /** Word offset of this input's section in a chunk buffer. */
  offset: number;
}

export class ChunkInputs {
  /** Chunk index → buffer, least recently used first. */
  private readonly loaded = new Map<number, GPUBuffer>();
  private readonly spare: GPUBuffer[] = [];
  private readonly tail = new Uint8Array(4);

  constructor(
    private readonly context: GpuContext,
    private readonly layout: ChunkLayout,
    private readonly inputs: readonly PackedInput[],
    private readonly capacity: number,
  ) {}

  /** The buffer holding `chunk`'s inputs, uploading them if they are not there. */
  get(chunk: Chunk): GPUBuffer {
    const hit = this.loaded.get(chunk.index);
    if (hit) {
      this.loaded.delete(chunk.index);
      this.loaded.set(chunk.index, hit);
      return hit;
    }
    const buffer = this.take();
    this.upload(buffer, chunk);
    this.loaded.set(chunk.index, buffer);
    return buffer;
  }

  private take(): GPUBuffer {
    if (this.loaded.size >= Math.max(1, this.capacity)) {
      const [oldest, buffer] = this.loaded.entries().next().value as [number, GPUBuffer];
      this.loaded.delete(oldest);
      return buffer;
    }
    return this.spare.pop() ?? this.context.storage(this.layout.inputWords * 4, "chunk inputs");
  }

  private upload(buffer: GPUBuffer, chunk: Chunk): void {
    for (const input of this.inputs) {
      const size = DTYPE_SIZE[input.dtype];
      const from = chunk.start * size;
      const length = chunk.length * size;
      const whole = length - (length % 4);
      const at = input.offset * 4;
      if (whole > 0) this.context.write(buffer, at, input.bytes, from, whole);
      if (whole < length) {
        this.tail.fill(0);
        this.tail.set(input.bytes.subarray(from + whole, from + length));
        this.context.write(buffer, at + whole, this.tail, 0, 4);
      }
    }
  }

  destroy(): void {
    for (const buffer of [...this.loaded.values(), ...this.spare]) buffer.destroy();
    this.loaded.clear();
    this.spare.length = 0;
  }
}
