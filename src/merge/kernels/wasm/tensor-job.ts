/**
 * One tensor merge of the task family or NearSwap on the worker pool (SCE: sce-job.ts). Passes
 * sweep the tensor window by window (window-sweep.ts):
 *
 * - magnitude methods first find every model's cut (high-bits histograms, low-bits histograms,
 *   then the count of cut-equal elements per chunk, whose prefix sums tell each chunk how many
 *   such elements precede it — so "the first k in index order" holds across chunks);
 * - the fused pass merges and encodes each chunk; finished windows are copied out.
 */
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { NearswapPlan, TaskPlan } from "../plan.js";
import type { InputBytes, TensorMergeRequest } from "../request.js";
import { writeCuts, writeDescriptor } from "./descriptor.js";
import { planLayout, HIGH_HIST_BYTES, LOW_HIST_BYTES, type ArenaLayout } from "./layout.js";
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
import { WindowSweep, type JobContext, type OutputCall, type OutputTarget } from "./window-sweep.js";

export type { JobContext, OutputTarget } from "./window-sweep.js";

/** A request this job runs: a task-family (or linear) plan, or NearSwap's. */
export type TensorJobRequest = TensorMergeRequest & { plan: TaskPlan | NearswapPlan };

/** A cut to find: model m's `end` of its rank range is the k-th largest key. */
interface PendingCut {
  model: number;
  end: 0 | 1; // 0 upper, 1 lower
  k: number;
  bucket?: BucketChoice;
  words?: CutWords;
}

export class TensorJob {
  private readonly layout: ArenaLayout;
  private readonly inputs: InputBytes[];
  private sweep!: WindowSweep;
  /** Per global chunk: 2 u32 per model, the cut-equal counts before the chunk. */
  private prefixes: Uint32Array[] | undefined;

  constructor(
    private readonly request: TensorJobRequest,
    /** Where the encoded output goes (at least count × output size bytes); see OutputTarget. */
    private readonly output: OutputTarget,
    private readonly context: JobContext,
  ) {
    this.inputs = [...(request.base ? [request.base] : []), ...request.models];
    const plan = request.plan;
    this.layout = planLayout({
      heapBase: context.heapBase,
      threads: context.threads,
      count: request.count,
      inputs: this.inputs.map((input) => input.dtype),
      output: request.outDtype,
      models: request.models.length,
      histograms: plan.kind === "task" && plan.terms.some((term) => term.sparsity.mode === "magnitude"),
      bufferBudget: context.bufferBudget,
      windowElements: context.windowElements,
      chunkElements: context.chunkElements,
    });
  }

  async run(): Promise<Uint8Array> {
    const { request, layout } = this;
    this.sweep = new WindowSweep(layout, this.inputs, this.context);
    const hasBase = request.base !== undefined;
    writeDescriptor(this.sweep.descriptor, request.plan, {
      base: hasBase ? layout.inputs[0] : undefined,
      models: layout.inputs.slice(hasBase ? 1 : 0),
      output: layout.output,
      baseDtype: request.base?.dtype,
      modelDtypes: request.models.map((m) => m.dtype),
      outDtype: request.outDtype,
    });
    await this.findCuts();
    const size = DTYPE_SIZE[request.outDtype];
    return this.sweep.outputPass(this.output, size, request.count, this.mergeCall());
  }

  /** The kernel call of the fused pass for one chunk. */
  private mergeCall(): OutputCall {
    const { layout, request } = this;
    if (request.plan.kind === "nearswap") {
      return (_window, _chunk, from, to, shift, regions) => ({
        op: "nearswapChunk",
        args: [layout.descriptor, shift, from, to, regions.scratch],
      });
    }
    const zeros = new Uint32Array(request.models.length * 2);
    return (window, chunk, from, to, shift, regions) => ({
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
    });
  }

  /** Finds every magnitude model's cuts and the per-chunk prefix counts of cut-equal elements. */
  private async findCuts(): Promise<void> {
    const cuts = this.pendingCuts();
    if (cuts.length === 0) return;
    const { layout, sweep } = this;
    const models = this.request.models.length;
    sweep.zeroRegions((w) => w.highHists, models * HIGH_HIST_BYTES);
    await sweep.run((_window, _chunk, from, to, shift) => (worker) => {
      const regions = layout.workers[worker]!;
      return {
        op: "cutHistogramHigh",
        args: [layout.descriptor, shift, from, to, regions.scratch, regions.highHists],
      };
    });
    const buckets = new Uint32Array(models * 2).fill(NO_KEY);
    for (const cut of cuts) {
      cut.bucket = chooseBucket(
        sweep.sumRegions((w) => w.highHists + cut.model * HIGH_HIST_BYTES, HIGH_BUCKETS),
        cut.k,
      );
      buckets[cut.model * 2 + cut.end] = cut.bucket.bucket;
    }
    sweep.descriptor.words.set(buckets, layout.buckets >>> 2);
    sweep.zeroRegions((w) => w.lowHists, models * 2 * LOW_HIST_BYTES);
    await sweep.run((_window, _chunk, from, to, shift) => (worker) => {
      const r = layout.workers[worker]!;
      return {
        op: "cutHistogramLow",
        args: [layout.descriptor, shift, from, to, r.scratch, layout.buckets, r.lowHists],
      };
    });
    for (const cut of cuts) {
      const slot = (cut.model * 2 + cut.end) * LOW_HIST_BYTES;
      cut.words = chooseKey(
        sweep.sumRegions((w) => w.lowHists + slot, LOW_SLOTS),
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
    const plan = this.request.plan;
    if (plan.kind !== "task") return cuts;
    plan.terms.forEach((term, model) => {
      if (term.sparsity.mode !== "magnitude") return;
      const { lo, hi } = clampRange(term.sparsity.from, term.sparsity.to, this.request.count);
      if (hi <= lo) {
        writeCuts(this.sweep.descriptor, model, NO_CUT, NO_CUT);
        return;
      }
      writeCuts(this.sweep.descriptor, model, KEEP_ALL, NO_CUT);
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
    for (const [model, [upper, lower]] of byModel) writeCuts(this.sweep.descriptor, model, upper, lower);
  }

  /** Per chunk, the cut-equal counts of the chunks before it. */
  private async countEqual(): Promise<void> {
    const { layout } = this;
    const words = this.request.models.length * 2;
    const perChunk: number[][] = new Array(layout.chunkCount);
    await this.sweep.run(
      (_window, _chunk, from, to, shift) => (worker) => {
        const r = layout.workers[worker]!;
        return {
          op: "cutCountEqual",
          args: [layout.descriptor, shift, from, to, r.scratch, r.equalCounts],
          read: { ptr: r.equalCounts, count: words },
        };
      },
      { collect: (chunk, reply) => (perChunk[chunk] = reply.values!) },
    );
    const running = new Uint32Array(words);
    this.prefixes = perChunk.map((counts) => {
      const before = running.slice();
      counts.forEach((count, i) => (running[i] = running[i]! + count));
      return before;
    });
  }
}
