/**
 * A device with the tensor kernels compiled once, plus the few buffer operations the backend
 * needs (create, upload, read back). Device errors (validation, out of memory, device loss) are
 * collected and raised at the next check, as HubmergeErrors.
 */
import { HubmergeError } from "../../../errors.js";
import type { GpuAdapterSummary, GpuConstants, OpenedGpu } from "./adapter.js";
import { TENSOR_KERNELS_WGSL, type KernelEntry } from "./wgsl/tensor-kernels.js";

/** The bindings each entry point uses (its 'auto' layout holds exactly these). */
const ENTRY_BINDINGS: Readonly<Record<KernelEntry, readonly number[]>> = {
  merge: [0, 1, 2, 3],
  nearswap: [0, 1, 2, 3],
  convert: [0, 1, 2, 3],
  uniforms: [0, 2, 3],
  binary: [1, 2, 3],
  histogram_high: [0, 1, 2, 4],
  histogram_low: [0, 1, 2, 4],
  count_equal: [0, 1, 2, 4],
};

export type KernelBuffers = Partial<Record<0 | 1 | 2 | 3 | 4, GPUBuffer>>;

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GpuAdapterSummary;
  readonly usage: GpuConstants["BufferUsage"];
  private readonly mapRead: number;
  private readonly module: GPUShaderModule;
  private readonly pipelines = new Map<KernelEntry, Promise<GPUComputePipeline>>();
  private failure: HubmergeError | undefined;
  private closed = false;
  /** Where views of shared memory are copied before an upload (see write). */
  private staging = new Uint8Array(0);

  constructor(gpu: OpenedGpu) {
    this.device = gpu.device;
    this.adapter = gpu.adapter;
    this.usage = gpu.constants.BufferUsage;
    this.mapRead = gpu.constants.MapMode.READ;
    this.device.addEventListener("uncapturederror", (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.failure ??= new HubmergeError(
        "E_INTERNAL",
        `GPU error on ${this.adapter.name}: ${error.message}`,
        {
          hint: "Rerun with --backend wasm; please report this with the adapter name.",
        },
      );
    });
    void this.device.lost.then((info) => {
      if (this.closed) return;
      this.failure ??= new HubmergeError("E_INTERNAL", `the GPU device was lost: ${info.message}`, {
        hint: "Rerun with --backend wasm, or check the GPU driver.",
      });
    });
    this.module = this.device.createShaderModule({
      code: TENSOR_KERNELS_WGSL,
      label: "hubmerge tensor kernels",
    });
  }

  /** The compute pipeline of one entry point (compiled on first use). */
  pipeline(entry: KernelEntry): Promise<GPUComputePipeline> {
    let pipeline = this.pipelines.get(entry);
    if (!pipeline) {
      const descriptor: GPUComputePipelineDescriptor = {
        layout: "auto",
        compute: { module: this.module, entryPoint: entry },
      };
      pipeline = this.device.createComputePipelineAsync(descriptor).catch(async (cause: unknown) => {
        const messages = (await this.module.getCompilationInfo()).messages.map((m) => m.message);
        throw new HubmergeError(
          "E_INTERNAL",
          `the GPU kernel ${entry} did not compile on ${this.adapter.name}`,
          {
            hint: `Rerun with --backend wasm. ${messages.join(" ")}`.trim(),
            cause,
          },
        );
      });
      this.pipelines.set(entry, pipeline);
    }
    return pipeline;
  }

  bindGroup(pipeline: GPUComputePipeline, entry: KernelEntry, buffers: KernelBuffers): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: ENTRY_BINDINGS[entry].map((binding) => {
        const buffer = buffers[binding as keyof KernelBuffers];
        if (!buffer) throw new HubmergeError("E_INTERNAL", `GPU kernel ${entry} needs binding ${binding}`);
        return { binding, resource: { buffer } };
      }),
    });
  }

  /** Records one dispatch of `entry` over `workgroups` workgroups. */
  dispatch(
    encoder: GPUCommandEncoder,
    pipeline: GPUComputePipeline,
    entry: KernelEntry,
    buffers: KernelBuffers,
    workgroups: number,
  ): void {
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup(pipeline, entry, buffers));
    pass.dispatchWorkgroups(workgroups);
    pass.end();
  }

  buffer(bytes: number, usage: number, label?: string): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage, label });
  }

  storage(bytes: number, label?: string): GPUBuffer {
    const { STORAGE, COPY_SRC, COPY_DST } = this.usage;
    return this.buffer(bytes, STORAGE | COPY_SRC | COPY_DST, label);
  }

  uniform(words: Uint32Array): GPUBuffer {
    const buffer = this.buffer(words.byteLength, this.usage.UNIFORM | this.usage.COPY_DST, "chunk");
    this.write(buffer, 0, words);
    return buffer;
  }

  /** Queues a copy of `data` (elements [from, from + count) of it) into `buffer` at byte `offset`. */
  write(
    buffer: GPUBuffer,
    offset: number,
    data: Uint8Array | Uint32Array,
    from?: number,
    count?: number,
  ): void {
    // dawn.node copies the bytes at the call, but refuses views of shared memory (the executor's
    // read buffers): those go through one reused staging buffer.
    if (data.buffer instanceof SharedArrayBuffer) {
      const start = from ?? 0;
      const view = data.subarray(start, start + (count ?? data.length - start));
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      this.queue(buffer, offset, this.staged(bytes));
      return;
    }
    this.queue(buffer, offset, data as Uint8Array<ArrayBuffer>, from, count);
  }

  private queue(
    buffer: GPUBuffer,
    offset: number,
    data: Uint8Array | Uint32Array,
    from?: number,
    count?: number,
  ) {
    this.device.queue.writeBuffer(buffer, offset, data as Uint8Array<ArrayBuffer>, from, count);
  }

  /** `bytes` copied into the staging buffer (grown as needed); valid until the next call. */
  private staged(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
    if (this.staging.byteLength < bytes.byteLength) this.staging = new Uint8Array(bytes.byteLength);
    const view = this.staging.subarray(0, bytes.byteLength);
    view.set(bytes);
    return view;
  }

  readbackBuffer(bytes: number): GPUBuffer {
    return this.buffer(bytes, this.usage.MAP_READ | this.usage.COPY_DST, "readback");
  }

  /**
   * Maps `bytes` (a multiple of 4) of a readback buffer filled by already submitted work and hands
   * the view to `use` before unmapping.
   */
  async withMapped<T>(buffer: GPUBuffer, bytes: number, use: (view: Uint8Array) => T): Promise<T> {
    await buffer.mapAsync(this.mapRead, 0, bytes);
    try {
      return use(new Uint8Array(buffer.getMappedRange(0, bytes)));
    } finally {
      buffer.unmap();
    }
  }

  /** Copies `bytes` of a storage buffer back to the host (a fresh array). */
  async read(source: GPUBuffer, bytes: number): Promise<Uint8Array> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.readbackBuffer(size);
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(source, 0, staging, 0, size);
      this.device.queue.submit([encoder.finish()]);
      return await this.withMapped(staging, size, (view) => view.slice(0, bytes));
    } finally {
      staging.destroy();
    }
  }

  /** Throws the first device error since the last check. */
  check(): void {
    const failure = this.failure;
    if (failure) {
      this.failure = undefined;
      throw failure;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.device.destroy();
  }
}
