/**
 * How a tensor job runs one pass over the worker pool: window by window (the inputs copied into
 * the shared memory, double-buffered), each window's chunks taken by the workers. Window w+1 is
 * copied into the other buffer while workers compute window w. Every job (TensorJob, SceJob) runs
 * its passes through one WindowSweep.
 */
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { InputBytes } from "../request.js";
import type { DescriptorTarget } from "./descriptor.js";
import { ensureMemory } from "./load-kernels.js";
import type { ArenaLayout, Window, WorkerRegions } from "./layout.js";
import type { WasmMemory } from "./wasm-api.js";
import type { KernelPool, KernelTask, KernelTaskResult } from "./workers/pool.js";

/** What a tensor job runs on: the merger's pool and memory, and its sizes. */
export interface JobContext {
  pool: KernelPool;
  memory: WasmMemory;
  heapBase: number;
  threads: number;
  bufferBudget: number;
  windowElements: number | undefined;
  chunkElements: number | undefined;
}

/** Builds the kernel call for a worker (its scratch regions depend on which worker takes it). */
export type TaskBuilder = (worker: number) => KernelTask;

/**
 * The task of one chunk: elements [from, to) of `window`, whose buffer is `shift` bytes from
 * buffer 0. A promise defers the chunk until what it needs is known (a sum carried from the chunk
 * before it); it must not wait for a chunk of a later window.
 */
export type ChunkTask = (
  window: Window,
  chunk: number,
  from: number,
  to: number,
  shift: number,
) => TaskBuilder | Promise<TaskBuilder>;

export interface SweepHooks {
  /** Runs when every chunk of a window is done. */
  after?: (window: Window, shift: number) => void;
  /** Receives each chunk's reply (`chunk` is its global index). */
  collect?: (chunk: number, reply: KernelTaskResult) => void;
}

/**
 * Where the result goes: bytes of a SharedArrayBuffer that workers write directly (an output
 * buffer, or a given-up input of the output's element size), or a caller's ordinary buffer the
 * result may overwrite (a given-up input: its window is copied in before it is overwritten).
 */
export type OutputTarget = { shared: SharedArrayBuffer; offset: number } | { inPlace: Uint8Array };

/** The kernel call that merges one chunk into the window's output region. */
export type OutputCall = (
  window: Window,
  chunk: number,
  from: number,
  to: number,
  shift: number,
  regions: WorkerRegions,
) => Pick<KernelTask, "op" | "args" | "write">;

export class WindowSweep {
  /** Which window each buffer holds. */
  private readonly loaded: (number | undefined)[] = [undefined, undefined];

  /** All of the shared memory (grown to the layout). */
  readonly bytes: Uint8Array;
  /** Where the job's descriptor goes. */
  readonly descriptor: DescriptorTarget;
  private readonly pool: KernelPool;

  constructor(
    private readonly layout: ArenaLayout,
    /** In the layout's order: the base first when there is one. */
    private readonly inputs: readonly InputBytes[],
    context: Pick<JobContext, "pool" | "memory">,
  ) {
    ensureMemory(context.memory, layout.end);
    const buffer = context.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.descriptor = {
      words: new Uint32Array(buffer),
      floats: new Float32Array(buffer),
      at: layout.descriptor,
    };
    this.pool = context.pool;
  }

  /** Runs `task` on every chunk, window by window; resolves when all are done. */
  async run(task: ChunkTask, hooks: SweepHooks = {}): Promise<void> {
    const { after, collect } = hooks;
    const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
    try {
      for (const window of this.layout.windows) {
        const buffer = window.index % 2;
        await inFlight[buffer];
        const shift = buffer * this.layout.bufferShift;
        this.load(window, buffer, shift);
        const done = Promise.all(
          window.chunks.map(async ([from, to], chunk) => {
            const build = await task(window, chunk, from, to, shift);
            const reply = await this.pool.run(this.withSharedInputs(build, window, from, to, shift));
            collect?.(window.firstChunk + chunk, reply);
          }),
        ).then(() => after?.(window, shift));
        done.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        inFlight[buffer] = done;
      }
      await Promise.all(inFlight);
    } catch (error) {
      await Promise.allSettled(inFlight);
      this.loaded.fill(undefined);
      throw error;
    }
  }

  /**
   * The pass that writes the result: `call` merges a chunk into the window's output region. Into a
   * shared buffer, each worker copies its chunk's output itself; into a caller's buffer (which only
   * this thread can write), each finished window is copied here. Returns the encoded output.
   */
  async outputPass(output: OutputTarget, size: number, count: number, call: OutputCall): Promise<Uint8Array> {
    const { layout } = this;
    const shared = "shared" in output ? output : undefined;
    const inPlace = "inPlace" in output ? output.inPlace : undefined;
    const copyWindow = (window: Window, shift: number) => {
      if (!inPlace) return;
      const from = layout.output + shift;
      inPlace.set(this.bytes.subarray(from, from + window.length * size), window.start * size);
    };
    await this.run(
      (window, chunk, from, to, shift) => (worker) => {
        const task: KernelTask = call(window, chunk, from, to, shift, layout.workers[worker]!);
        if (shared) {
          task.copyOut = {
            from: layout.output + shift + from * size,
            length: (to - from) * size,
            target: shared.shared,
            offset: shared.offset + (window.start + from) * size,
          };
        }
        return task;
      },
      { after: copyWindow },
    );
    const bytes = count * size;
    return inPlace ? inPlace.subarray(0, bytes) : new Uint8Array(shared!.shared, shared!.offset, bytes);
  }

  /** Zeroes `bytes` at one region of every worker. */
  zeroRegions(region: (w: WorkerRegions) => number, bytes: number): void {
    for (const worker of this.layout.workers) this.bytes.fill(0, region(worker), region(worker) + bytes);
  }

  /** The sum over the workers of `length` u32 counters at one region of each (histograms). */
  sumRegions(region: (w: WorkerRegions) => number, length: number): Uint32Array {
    const total = new Uint32Array(length);
    for (const worker of this.layout.workers) {
      const part = new Uint32Array(this.bytes.buffer, region(worker), length);
      for (let i = 0; i < length; i++) total[i] = total[i]! + part[i]!;
    }
    return total;
  }

  /**
   * Inputs in SharedArrayBuffers are copied in by the workers, each its own chunk, in every pass:
   * the copying then scales with the threads instead of running here.
   */
  private withSharedInputs(
    build: TaskBuilder,
    window: Window,
    from: number,
    to: number,
    shift: number,
  ): TaskBuilder {
    const copies = this.inputs.flatMap((input, i) => {
      if (!(input.bytes.buffer instanceof SharedArrayBuffer)) return [];
      const size = DTYPE_SIZE[input.dtype];
      const offset = input.bytes.byteOffset + (window.start + from) * size;
      return [
        {
          source: input.bytes.buffer,
          offset,
          length: (to - from) * size,
          to: this.layout.inputs[i]! + shift + from * size,
        },
      ];
    });
    if (copies.length === 0) return build;
    return (worker) => ({ ...build(worker), copyIn: copies });
  }

  /** Copies window `window` of every (unshared) input into `buffer`, unless it is already there. */
  private load(window: Window, buffer: number, shift: number): void {
    if (this.loaded[buffer] === window.index) return;
    this.inputs.forEach((input, i) => {
      if (input.bytes.buffer instanceof SharedArrayBuffer) return;
      const size = DTYPE_SIZE[input.dtype];
      const source = input.bytes.subarray(window.start * size, (window.start + window.length) * size);
      this.bytes.set(source, this.layout.inputs[i]! + shift);
    });
    this.loaded[buffer] = window.index;
  }
}
