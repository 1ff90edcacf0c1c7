/**
 * One tensor merge on the GPU. Passes sweep the tensor chunk by chunk:
 *
 * - magnitude methods (ties, breadcrumbs) first find each cut: a high-bits histogram pass, a
 *   low-bits pass over the chosen buckets, and, only when elements equal to a cut key straddle
 *   it, a pass counting them per 256-element segment (cut-search.ts resolves the exact index);
 * - the fused merge pass (NearSwap: its own kernel) decodes, merges and encodes each chunk; its
 *   output is read back while the next chunk is uploaded and computed (two slots in flight).
 */
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { GpuMergeRequest } from "./merge-request.js";
import { ChunkInputs, type PackedInput } from "./chunk-inputs.js";
import type { Chunk, ChunkLayout } from "./chunk-layout.js";
import {
  boundInSegment,
  chooseBucket,
  chooseKey,
  cutSearches,
  cutWords,
  type CutSearch,
  type CutWords,
} from "./cut-search.js";
import {
  HIGH_BUCKETS,
  LOW_SLOTS,
  MODEL,
  NONE,
  WORKGROUP_ELEMENTS,
  buildDescriptor,
  modelWord,
} from "./descriptor.js";
import type { GpuContext, KernelBuffers } from "./gpu-context.js";
import type { KernelEntry } from "./wgsl/tensor-kernels.js";

export interface JobOptions {
  /** Chunks kept on the device between passes (the others are uploaded again). */
  residentChunks: number;
}

/** A pass's per-chunk product: which binding receives it, its size, and what to do with it. */
interface Collect {
  binding: 3 | 4;
  bytes(chunk: Chunk): number;
  use(chunk: Chunk, view: Uint8Array): void;
}

export class GpuTensorJob {
  private readonly descriptor: Uint32Array;
  private readonly descriptorBuffer: GPUBuffer;
  private readonly inputs: ChunkInputs;
  private readonly uniforms: GPUBuffer[];
  private readonly owned: GPUBuffer[] = [];

  constructor(
    private readonly context: GpuContext,
    private readonly request: GpuMergeRequest,
    private readonly layout: ChunkLayout,
    options: JobOptions,
  ) {
    const { plan, base, models, outDtype } = request;
    this.descriptor = buildDescriptor(
      plan,
      { base: base?.dtype, models: models.map((m) => m.dtype), out: outDtype },
      layout.sections,
    );
    this.descriptorBuffer = this.own(context.storage(this.descriptor.byteLength, "descriptor"));
    const packed: PackedInput[] = models.map((m, i) => ({ ...m, offset: layout.sections.models[i]! }));
    if (base) packed.unshift({ ...base, offset: layout.sections.base! });
    this.inputs = new ChunkInputs(context, layout, packed, options.residentChunks);
    // The kernels index the DARE stream from `start`: a piece's chunks count from its tensor offset.
    const offset = request.elementOffset ?? 0;
    this.uniforms = layout.chunks.map((chunk) =>
      this.own(context.uniform(new Uint32Array([offset + chunk.start, chunk.length, layout.segments, 0]))),
    );
  }

  async run(): Promise<Uint8Array> {
    try {
      await this.findCuts();
      return await this.mergePass();
    } finally {
      this.inputs.destroy();
      for (const buffer of this.owned) buffer.destroy();
    }
  }

  private own(buffer: GPUBuffer): GPUBuffer {
    this.owned.push(buffer);
    return buffer;
  }

  private writeDescriptor(): void {
    this.context.write(this.descriptorBuffer, 0, this.descriptor);
  }

  private async mergePass(): Promise<Uint8Array> {
    this.writeDescriptor();
    const size = DTYPE_SIZE[this.request.outDtype];
    const result = new Uint8Array(this.request.count * size);
    await this.sweep(this.request.plan.kind === "nearswap" ? "nearswap" : "merge", undefined, {
      binding: 3,
      bytes: (chunk) => chunk.length * size,
      use: (chunk, view) => result.set(view.subarray(0, chunk.length * size), chunk.start * size),
    });
    return result;
  }

  /**
   * Runs `entry` on every chunk in order. With `collect`, each chunk's binding-3/4 buffer (one of
   * two slots) is read back once its work is done; with `counters`, binding 4 accumulates over
   * the chunks. At most two chunks are in flight.
   */
  private async sweep(entry: KernelEntry, counters?: GPUBuffer, collect?: Collect): Promise<void> {
    const { context, layout } = this;
    const pipeline = await context.pipeline(entry);
    const slotBytes = collect ? this.collectBytes(collect) : 0;
    const slots = [0, 1].map(() => ({
      target: collect ? this.own(context.storage(slotBytes, entry)) : undefined,
      readback: collect ? this.own(context.readbackBuffer(slotBytes)) : undefined,
      pending: Promise.resolve() as Promise<unknown>,
    }));
    try {
      for (const chunk of layout.chunks) {
        const slot = slots[chunk.index % 2]!;
        await slot.pending;
        context.check();
        const buffers: KernelBuffers = {
          0: this.descriptorBuffer,
          1: this.inputs.get(chunk),
          2: this.uniforms[chunk.index]!,
          3: collect?.binding === 3 ? slot.target : undefined,
          4: collect?.binding === 4 ? slot.target : counters,
        };
        const encoder = context.device.createCommandEncoder();
        if (collect?.binding === 4) encoder.clearBuffer(slot.target!);
        const workgroups = Math.ceil(chunk.length / WORKGROUP_ELEMENTS);
        context.dispatch(encoder, pipeline, entry, buffers, workgroups);
        const bytes = collect ? Math.ceil(collect.bytes(chunk) / 4) * 4 : 0;
        if (collect) encoder.copyBufferToBuffer(slot.target!, 0, slot.readback!, 0, bytes);
        context.device.queue.submit([encoder.finish()]);
        slot.pending = collect
          ? context.withMapped(slot.readback!, bytes, (view) => collect.use(chunk, view))
          : context.device.queue.onSubmittedWorkDone();
        slot.pending.catch(() => undefined); // awaited before reuse or below
      }
      await Promise.all(slots.map((slot) => slot.pending));
    } finally {
      await Promise.allSettled(slots.map((slot) => slot.pending));
    }
    context.check();
  }

  private collectBytes(collect: Collect): number {
    return Math.max(
      4,
      ...this.layout.chunks.slice(0, 1).map((chunk) => Math.ceil(collect.bytes(chunk) / 4) * 4),
    );
  }

  /** Finds every magnitude cut and writes the cut words into the descriptor. */
  private async findCuts(): Promise<void> {
    const plan = this.request.plan;
    if (plan.kind !== "task") return;
    const { searches, fixed } = cutSearches(plan, this.request.count);
    fixed.forEach(([upper, lower], m) => this.setCut(m, upper, lower));
    if (searches.length === 0) return;
    const models = this.request.models.length;
    for (const search of searches) this.descriptor[modelWord(search.model, MODEL.histogram)] = 1;
    const high = await this.histogram("histogram_high", models * HIGH_BUCKETS);
    for (const search of searches) {
      chooseBucket(search, high.subarray(search.model * HIGH_BUCKETS, (search.model + 1) * HIGH_BUCKETS));
      this.descriptor[modelWord(search.model, MODEL.upperBucket + search.end)] = search.bucket!;
    }
    const low = await this.histogram("histogram_low", models * 2 * LOW_SLOTS);
    for (const search of searches) {
      const at = (search.model * 2 + search.end) * LOW_SLOTS;
      chooseKey(search, low.subarray(at, at + LOW_SLOTS));
    }
    const straddled = searches.filter((search) => search.bound === undefined);
    if (straddled.length > 0) await this.findBounds(straddled);
    for (const search of searches) {
      const [upper, lower] = fixed[search.model]!;
      const words = cutWords(search);
      fixed[search.model] = search.end === 0 ? [words, lower] : [upper, words];
    }
    fixed.forEach(([upper, lower], m) => this.setCut(m, upper, lower));
  }

  private setCut(m: number, upper: CutWords, lower: CutWords): void {
    const words = this.descriptor;
    words[modelWord(m, MODEL.upperKey)] = upper.key;
    words[modelWord(m, MODEL.upperBound)] = upper.bound;
    words[modelWord(m, MODEL.lowerKey)] = lower.key;
    words[modelWord(m, MODEL.lowerBound)] = lower.bound;
  }

  /** One histogram pass over the tensor; returns the summed counts. */
  private async histogram(entry: KernelEntry, slots: number): Promise<Uint32Array> {
    this.writeDescriptor();
    const counters = this.own(this.context.storage(slots * 4, entry));
    const encoder = this.context.device.createCommandEncoder();
    encoder.clearBuffer(counters);
    this.context.device.queue.submit([encoder.finish()]);
    await this.sweep(entry, counters);
    const bytes = await this.context.read(counters, slots * 4);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, slots);
  }

  /** Counts cut-equal elements per segment, then resolves each straddled cut's bound on the CPU. */
  private async findBounds(straddled: CutSearch[]): Promise<void> {
    const { layout, request } = this;
    const models = request.models.length;
    for (const search of straddled)
      this.descriptor[modelWord(search.model, MODEL.countUpper + search.end)] = 1;
    for (const search of straddled) {
      this.descriptor[modelWord(search.model, MODEL.upperKey + 2 * search.end)] = search.key!;
    }
    this.writeDescriptor();
    const seen = straddled.map(() => 0);
    await this.sweep("count_equal", undefined, {
      binding: 4,
      bytes: () => models * 2 * layout.segments * 4,
      use: (chunk, view) => {
        const counts = new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4);
        straddled.forEach((search, i) => {
          if (search.bound !== undefined) return;
          const row = (search.model * 2 + search.end) * layout.segments;
          for (let s = 0; s * WORKGROUP_ELEMENTS < chunk.length; s++) {
            const found = counts[row + s]!;
            if (seen[i]! + found >= search.take!) {
              const start = chunk.start + s * WORKGROUP_ELEMENTS;
              const end = Math.min(request.count, start + WORKGROUP_ELEMENTS);
              const source = { base: request.base!, model: request.models[search.model]! };
              search.bound = boundInSegment(search, source, start, end, seen[i]!);
              return;
            }
            seen[i] = seen[i]! + found;
          }
        });
      },
    });
    for (const search of straddled) {
      this.descriptor[modelWord(search.model, MODEL.countUpper + search.end)] = 0;
      search.bound ??= NONE; // unreachable: the low histogram counted `equal` such elements
    }
  }
}
