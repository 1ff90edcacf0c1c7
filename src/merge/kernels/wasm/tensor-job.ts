/**
 * One tensor merge on the worker pool. Passes sweep the tensor window by window (copying inputs
 * into the shared memory, double-buffered), each window split into chunks that workers take:
 *
 * - magnitude methods first find every model's cut (high-bits histograms, low-bits histograms,
 *   then the count of cut-equal elements per chunk, whose prefix sums tell each chunk how many
 *   such elements precede it — so "the first k in index order" holds across chunks);
 * - the fused pass merges and encodes each chunk; finished windows are copied out.
 */
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { InputBytes, TensorMergeRequest } from "../request.js";
import { writeCuts, writeDescriptor, type DescriptorTarget } from "./descriptor.js";
import { ensureMemory } from "./load-kernels.js";
import { planLayout, HIGH_HIST_BYTES, LOW_HIST_BYTES, type ArenaLayout, type Window } from "./layout.js";
import {
  KEEP_ALL,
  NO_CUT,
  chooseBucket,
  chooseKey,
  clampRange,
  type BucketChoice,
  type CutWords,
} from "./magnitude-cuts.js";
import { HIGH_BUCKETS, LOW_SLOTS, NO_KEY } from "./abi.js";
import type { WasmMemory } from "./wasm-api.js";
import type { KernelPool, KernelTask } from "./workers/pool.js";

/**
 * Where the result goes: bytes of a SharedArrayBuffer that workers write directly (an output
 * buffer, or a given-up input of the output's element size), or a caller's ordinary buffer the
 * result may overwrite (a given-up input: its window is copied in before it is overwritten).
 */
export type OutputTarget = { shared: SharedArrayBuffer; offset: number } | { inPlace: Uint8Array };

export interface JobContext {
  pool: KernelPool;
  memory: WasmMemory;
  heapBase: number;
  threads: number;
  bufferBudget: number;
  windowElements: number | undefined;
  chunkElements: number | undefined;
}

/** A cut to find: model m's `end` of its rank range is the k-th largest key. */
interface PendingCut {
  model: number;
  end: 0 | 1; // 0 upper, 1 lower
  k: number;
  bucket?: BucketChoice;
  words?: CutWords;
}

type ChunkTask = (
  window: Window,
  chunk: number,
  from: number,
  to: number,
  shift: number,
) => (worker: number) => KernelTask;

export class TensorJob {
  private readonly layout: ArenaLayout;
  private readonly inputs: InputBytes[];
  private bytes!: Uint8Array;
  private target!: DescriptorTarget;
  /** Which window each buffer holds. */
  private readonly loaded: (number | undefined)[] = [undefined, undefined];
  /** Per global chunk: 2 u32 per model, the cut-equal counts before the chunk. */
  private prefixes: Uint32Array[] | undefined;

  constructor(
    private readonly request: TensorMergeRequest,
    /** Where the encoded output goes (at least count × output size bytes); see OutputTarget. */
    private readonly output: OutputTarget,
    private readonly context: JobContext,
  ) {
    this.inputs = [...(request.base ? [request.base] : []), ...request.models];
    this.layout = planLayout({
      heapBase: context.heapBase,
      threads: context.threads,
      count: request.count,
      inputs: this.inputs.map((input) => input.dtype),
      output: request.outDtype,
      models: request.plan.terms.length,
      histograms: request.plan.terms.some((term) => term.sparsity.mode === "magnitude"),
      bufferBudget: context.bufferBudget,
      windowElements: context.windowElements,
      chunkElements: context.chunkElements,
    });
  }

  async run(): Promise<Uint8Array> {
    const { request, layout } = this;
    ensureMemory(this.context.memory, layout.end);
    const buffer = this.context.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.target = { words: new Uint32Array(buffer), floats: new Float32Array(buffer), at: layout.descriptor };
    const hasBase = request.base !== undefined;
    writeDescriptor(this.target, request.plan, {
      base: hasBase ? layout.inputs[0] : undefined,
      models: layout.inputs.slice(hasBase ? 1 : 0),
      output: layout.output,
      baseDtype: request.base?.dtype,
      modelDtypes: request.models.map((m) => m.dtype),
      outDtype: request.outDtype,
    });
    await this.findCuts();
    return this.mergePass();
  }

  /**
   * The fused pass. Into a shared buffer, each worker copies its chunk's output itself; into a
   * caller's buffer (which only this thread can write), each finished window is copied here.
   */
  private async mergePass(): Promise<Uint8Array> {
    const { layout, request, output } = this;
    const size = DTYPE_SIZE[request.outDtype];
    const zeros = new Uint32Array(request.plan.terms.length * 2);
    const shared = "shared" in output ? output : undefined;
    const inPlace = "inPlace" in output ? output.inPlace : undefined;
    const copyWindow = (window: Window, shift: number) => {
      if (!inPlace) return;
      const from = layout.output + shift;
      inPlace.set(this.bytes.subarray(from, from + window.length * size), window.start * size);
    };
    await this.sweep(
      (window, chunk, from, to, shift) => (worker) => {
        const regions = layout.workers[worker]!;
        const task: KernelTask = {
          op: "mergeChunk",
          args: [
            layout.descriptor,
            shift,
            (request.elementOffset ?? 0) + window.start,
            from,
            to,
            regions.scratch,
            regions.counters,
          ],
          write: { ptr: regions.counters, values: this.prefixes?.[window.firstChunk + chunk] ?? zeros },
        };
        if (shared) {
          const length = (to - from) * size;
          task.copyOut = {
            from: layout.output + shift + from * size,
            length,
            target: shared.shared,
            offset: shared.offset + (window.start + from) * size,
          };
        }
        return task;
      },
      { after: copyWindow },
    );
    const bytes = request.count * size;
    return inPlace ? inPlace.subarray(0, bytes) : new Uint8Array(shared!.shared, shared!.offset, bytes);
  }

  /**
   * Runs `task` on every chunk, window by window. Window w+1 is copied into the other buffer while
   * workers compute window w; `after` runs when a window is done, `collect` receives the values a
   * task reads back.
   */
  private async sweep(
    task: ChunkTask,
    hooks: {
      after?: (window: Window, shift: number) => void;
      collect?: (chunk: number, values: number[]) => void;
    } = {},
  ): Promise<void> {
    const { after, collect } = hooks;
    const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
    try {
      for (const window of this.layout.windows) {
        const buffer = window.index % 2;
        await inFlight[buffer];
        const shift = buffer * this.layout.bufferShift;
        this.load(window, buffer, shift);
        const done = Promise.all(
          window.chunks.map(([from, to], chunk) =>
            this.context.pool
              .run(this.withSharedInputs(task(window, chunk, from, to, shift), window, from, to, shift))
              .then(({ values }) => {
                if (collect && values) collect(window.firstChunk + chunk, values);
              }),
          ),
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
   * Inputs in SharedArrayBuffers are copied in by the workers, each its own chunk, in every pass:
   * the copying then scales with the threads instead of running here.
   */
  private withSharedInputs(
    build: (worker: number) => KernelTask,
    window: Window,
    from: number,
    to: number,
    shift: number,
  ): (worker: number) => KernelTask {
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

  /** Finds every magnitude model's cuts and the per-chunk prefix counts of cut-equal elements. */
  private async findCuts(): Promise<void> {
    const cuts = this.pendingCuts();
    if (cuts.length === 0) return;
    const { layout } = this;
    const models = this.request.plan.terms.length;
    this.zero((w) => w.highHists, models * HIGH_HIST_BYTES);
    await this.sweep((_window, _chunk, from, to, shift) => (worker) => {
      const regions = layout.workers[worker]!;
      return {
        op: "cutHistogramHigh",
        args: [layout.descriptor, shift, from, to, regions.scratch, regions.highHists],
      };
    });
    const buckets = new Uint32Array(models * 2).fill(NO_KEY);
    for (const cut of cuts) {
      cut.bucket = chooseBucket(
        this.sumHistograms((w) => w.highHists + cut.model * HIGH_HIST_BYTES, HIGH_BUCKETS),
        cut.k,
      );
      buckets[cut.model * 2 + cut.end] = cut.bucket.bucket;
    }
    this.target.words.set(buckets, layout.buckets >>> 2);
    this.zero((w) => w.lowHists, models * 2 * LOW_HIST_BYTES);
    await this.sweep((_window, _chunk, from, to, shift) => (worker) => {
      const r = layout.workers[worker]!;
      return {
        op: "cutHistogramLow",
        args: [layout.descriptor, shift, from, to, r.scratch, layout.buckets, r.lowHists],
      };
    });
    for (const cut of cuts) {
      const slot = (cut.model * 2 + cut.end) * LOW_HIST_BYTES;
      cut.words = chooseKey(
        this.sumHistograms((w) => w.lowHists + slot, LOW_SLOTS),
        cut.k,
        cut.bucket!,
      );
    }
    this.writeCutWords(cuts);
    await this.countEqual();
  }

  /** The cuts to find, after writing the trivial ends (keep all, keep none) to the descriptor. */
  private pendingCuts(): PendingCut[] {
    const cuts: PendingCut[] = [];
    this.request.plan.terms.forEach((term, model) => {
      if (term.sparsity.mode !== "magnitude") return;
      const { lo, hi } = clampRange(term.sparsity.from, term.sparsity.to, this.request.count);
      if (hi <= lo) {
        writeCuts(this.target, model, NO_CUT, NO_CUT);
        return;
      }
      writeCuts(this.target, model, KEEP_ALL, NO_CUT);
      if (hi < this.request.count) cuts.push({ model, end: 0, k: hi });
      if (lo > 0) cuts.push({ model, end: 1, k: lo });
    });
    return cuts;
  }

  private writeCutWords(cuts: PendingCut[]): void {
    const byModel = new Map<number, [CutWords, CutWords]>();
    for (const cut of cuts) {
      const ends = byModel.get(cut.model) ?? [KEEP_ALL, NO_CUT];
      ends[cut.end] = cut.words!;
      byModel.set(cut.model, ends);
    }
    for (const [model, [upper, lower]] of byModel) writeCuts(this.target, model, upper, lower);
  }

  /** Per chunk, the cut-equal counts of the chunks before it. */
  private async countEqual(): Promise<void> {
    const { layout } = this;
    const words = this.request.plan.terms.length * 2;
    const perChunk: number[][] = new Array(layout.chunkCount);
    await this.sweep(
      (_window, _chunk, from, to, shift) => (worker) => {
        const r = layout.workers[worker]!;
        return {
          op: "cutCountEqual",
          args: [layout.descriptor, shift, from, to, r.scratch, r.equalCounts],
          read: { ptr: r.equalCounts, count: words },
        };
      },
      { collect: (chunk, values) => (perChunk[chunk] = values) },
    );
    const running = new Uint32Array(words);
    this.prefixes = perChunk.map((counts) => {
      const before = running.slice();
      counts.forEach((count, i) => (running[i] = running[i]! + count));
      return before;
    });
  }

  private zero(region: (w: ArenaLayout["workers"][number]) => number, bytes: number): void {
    for (const worker of this.layout.workers) this.bytes.fill(0, region(worker), region(worker) + bytes);
  }

  private sumHistograms(region: (w: ArenaLayout["workers"][number]) => number, length: number): Uint32Array {
    const total = new Uint32Array(length);
    for (const worker of this.layout.workers) {
      const part = new Uint32Array(this.bytes.buffer, region(worker), length);
      for (let i = 0; i < length; i++) total[i] = total[i]! + part[i]!;
    }
    return total;
  }
}
