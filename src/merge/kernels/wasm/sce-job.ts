/**
 * One SCE merge on the worker pool (asm/sce.ts has the kernels; methods/sce.ts is the
 * specification). Passes sweep the tensor window by window (window-sweep.ts):
 *
 * 1. select (0 < select_topk < 1): the variances' high-key histogram, which also counts the zero
 *    variances and so gives k; the low-key histogram of the cut's bucket; and, only when elements
 *    equal to the cut straddle it, their count per chunk, whose prefix sums tell each chunk how
 *    many precede it (the first `take` in index order are kept, as magnitude top-k does);
 * 2. the sums of squares of the selected task vectors, in reductions.ts's blocked order: chunks
 *    never straddle a block, each block's chunks carry the f64 partial sums from one to the next,
 *    and the host adds the block sums in block order and turns them into the weights;
 * 3. the fused sign election and mix, encoded into the output.
 */
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { ScePlan } from "../plan.js";
import { REDUCTION_BLOCK } from "../reference/reductions.js";
import { sceSelectCount, sceWeightsFromSums } from "../reference/sce-primitives.js";
import type { InputBytes, TensorMergeRequest } from "../request.js";
import { HIGH_BUCKETS, LOW_SLOTS } from "./abi.js";
import { writeDescriptor, writeSelect, writeWeights } from "./descriptor.js";
import { planLayout, HIGH_HIST_BYTES, LOW_HIST_BYTES, type ArenaLayout } from "./layout.js";
import { NO_CUT, chooseBucket, chooseKey } from "./magnitude-cuts.js";
import { WindowSweep, type JobContext, type OutputTarget } from "./window-sweep.js";

export type SceJobRequest = TensorMergeRequest & { plan: ScePlan; base: InputBytes };

/** A `take` no chunk reaches: every element equal to the cut key is kept. */
const TAKE_ALL = 0xffffffff;

export class SceJob {
  private readonly layout: ArenaLayout;
  private readonly inputs: InputBytes[];
  private sweep!: WindowSweep;
  /** Per global chunk: how many elements equal to the select cut precede it (undefined: 0). */
  private prefixes: number[] | undefined;

  constructor(
    private readonly request: SceJobRequest,
    private readonly output: OutputTarget,
    private readonly context: JobContext,
  ) {
    this.inputs = [request.base, ...request.models];
    const topk = request.plan.selectTopK;
    this.layout = planLayout({
      heapBase: context.heapBase,
      threads: context.threads,
      count: request.count,
      inputs: this.inputs.map((input) => input.dtype),
      output: request.outDtype,
      models: request.models.length,
      histograms: topk > 0 && topk < 1,
      bufferBudget: context.bufferBudget,
      windowElements: context.windowElements,
      chunkElements: context.chunkElements,
      blockAlign: REDUCTION_BLOCK,
    });
  }

  async run(): Promise<Uint8Array> {
    const { request, layout } = this;
    this.sweep = new WindowSweep(layout, this.inputs, this.context);
    writeDescriptor(this.sweep.descriptor, request.plan, {
      base: layout.inputs[0],
      models: layout.inputs.slice(1),
      output: layout.output,
      baseDtype: request.base.dtype,
      modelDtypes: request.models.map((m) => m.dtype),
      outDtype: request.outDtype,
    });
    await this.select();
    writeWeights(this.sweep.descriptor, sceWeightsFromSums(await this.sumsOfSquares(), request.count));
    const size = DTYPE_SIZE[request.outDtype];
    return this.sweep.outputPass(this.output, size, request.count, (window, chunk, from, to, shift, r) => ({
      op: "sceMergeChunk",
      args: [layout.descriptor, shift, from, to, r.scratch, r.sums],
      write: { ptr: r.sums, values: [this.prefix(window.firstChunk + chunk)] },
    }));
  }

  private prefix(chunk: number): number {
    return this.prefixes?.[chunk] ?? 0;
  }

  /** Writes the variance cut into the descriptor (sceSelect of methods/sce.ts, in passes). */
  private async select(): Promise<void> {
    const { request, layout, sweep } = this;
    const topk = request.plan.selectTopK;
    if (topk >= 1) return writeSelect(sweep.descriptor, undefined);
    if (!(topk > 0)) return writeSelect(sweep.descriptor, NO_CUT);
    sweep.zeroRegions((w) => w.highHists, HIGH_HIST_BYTES);
    let zeros = 0;
    await sweep.run(
      (_window, _chunk, from, to, shift) => (worker) => {
        const r = layout.workers[worker]!;
        return { op: "sceHistogramHigh", args: [layout.descriptor, shift, from, to, r.scratch, r.highHists] };
      },
      { collect: (_chunk, reply) => (zeros += reply.result as number) },
    );
    // magnitudeRankRangeMask's clamp: k ≥ n keeps every position.
    const k = Math.min(request.count, sceSelectCount(request.count - zeros, topk));
    if (k <= 0) return writeSelect(sweep.descriptor, NO_CUT);
    if (k >= request.count) return writeSelect(sweep.descriptor, undefined);
    const bucket = chooseBucket(
      sweep.sumRegions((w) => w.highHists, HIGH_BUCKETS),
      k,
    );
    sweep.zeroRegions((w) => w.lowHists, LOW_HIST_BYTES);
    await sweep.run((_window, _chunk, from, to, shift) => (worker) => {
      const r = layout.workers[worker]!;
      return {
        op: "sceHistogramLow",
        args: [layout.descriptor, shift, from, to, r.scratch, bucket.bucket, r.lowHists],
      };
    });
    const low = sweep.sumRegions((w) => w.lowHists, LOW_SLOTS);
    const cut = chooseKey(low, k, bucket);
    const equal = low[cut.key & 0xffff]!;
    // Every element equal to the cut is kept when the top k take them all: no counting needed.
    if (cut.take >= equal) return writeSelect(sweep.descriptor, { key: cut.key, take: TAKE_ALL });
    writeSelect(sweep.descriptor, cut);
    await this.countEqual();
  }

  /** Per chunk, how many elements equal to the cut key the chunks before it hold. */
  private async countEqual(): Promise<void> {
    const { layout } = this;
    const counts: number[] = new Array(layout.chunkCount);
    await this.sweep.run(
      (_window, _chunk, from, to, shift) => (worker) => ({
        op: "sceCountEqual",
        args: [layout.descriptor, shift, from, to, layout.workers[worker]!.scratch],
      }),
      { collect: (chunk, reply) => (counts[chunk] = reply.result as number) },
    );
    let running = 0;
    this.prefixes = counts.map((count) => {
      const before = running;
      running += count;
      return before;
    });
  }

  /**
   * Each model's blockedSumSquares of its selected task vector: the chunks of a block run one
   * after the other, each continuing the partial sums of the one before (u32 words of the state:
   * select counter, gap, then each model's f64); the block sums are added in block order from +0.
   */
  private async sumsOfSquares(): Promise<number[]> {
    const { layout, request } = this;
    const models = request.models.length;
    const stateWords = 2 + 2 * models;
    const fresh = new Float64Array(models);
    const after: Deferred<Float64Array>[] = Array.from({ length: layout.chunkCount }, () =>
      deferred<Float64Array>(),
    );
    const blockOf: number[] = new Array(layout.chunkCount);
    await this.sweep.run(
      async (window, chunk, from, to, shift) => {
        const global = window.firstChunk + chunk;
        const start = window.start + from;
        blockOf[global] = Math.floor(start / REDUCTION_BLOCK);
        const carried = start % REDUCTION_BLOCK === 0 ? fresh : await after[global - 1]!.promise;
        const state = new Uint32Array(stateWords);
        state[0] = this.prefix(global);
        state.set(new Uint32Array(carried.slice().buffer), 2);
        return (worker) => {
          const r = layout.workers[worker]!;
          return {
            op: "sceSumSquares",
            args: [layout.descriptor, shift, from, to, r.scratch, r.sums],
            write: { ptr: r.sums, values: state },
            read: { ptr: r.sums, count: stateWords },
          };
        };
      },
      {
        collect: (chunk, reply) =>
          after[chunk]!.resolve(new Float64Array(Uint32Array.from(reply.values!.slice(2)).buffer)),
      },
    );
    const blockSums: Float64Array[] = [];
    for (let chunk = 0; chunk < layout.chunkCount; chunk++) {
      blockSums[blockOf[chunk]!] = await after[chunk]!.promise; // the last chunk of a block wins
    }
    return Array.from({ length: models }, (_, m) => {
      let total = 0; // reductions.ts: block sums added in block order, from +0
      for (const sums of blockSums) total += sums[m]!;
      return total;
    });
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
