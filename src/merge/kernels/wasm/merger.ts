/**
 * The engine of the WebAssembly backend (backend.ts): one shared memory, a pool of worker threads
 * over it, and tensor merges run one at a time (TensorJob or SceJob does the work). Memory stays bounded by the window budget and the
 * output buffers, however large the model is.
 *
 * Outputs that cannot go over an input go to three SharedArrayBuffers used in turn (workers write
 * results there in parallel): the executor writes unit i while i+1 and i+2 may merge. A
 * fresh buffer per tensor would not do: each worker that wrote into it keeps it reachable until
 * that worker's next garbage collection, which idle workers put off indefinitely.
 */
import { availableParallelism } from "node:os";
import { HubmergeError } from "../../../errors.js";
import { DTYPE_SIZE } from "../../../safetensors/dtype.js";
import type { TensorMergeRequest } from "../request.js";
import { createKernelMemory, instantiateKernels, kernelModule } from "./load-kernels.js";
import { SceJob } from "./sce-job.js";
import { TensorJob, type JobContext, type OutputTarget } from "./tensor-job.js";
import type { WasmMemory } from "./wasm-api.js";
import { KernelPool } from "./workers/pool.js";

export interface WasmBackendOptions {
  /** Worker threads; defaults to the available cores. */
  threads?: number;
  /** Upper bound of one of the two window buffers, bytes (default 32 MiB). */
  bufferBudget?: number;
  /** Fixed window / chunk lengths in elements (tests use small ones to cross every boundary). */
  windowElements?: number;
  chunkElements?: number;
}

const DEFAULT_BUFFER_BUDGET = 32 * 1024 * 1024;
/** Output buffers used in turn: a result stays valid until the third merge after it starts. */
const OUTPUT_BUFFERS = 3;

export class WasmMerger {
  readonly threads: number;
  private readonly memory: WasmMemory;
  private readonly pool: KernelPool;
  private readonly heapBase: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly outputs: (SharedArrayBuffer | undefined)[] = new Array(OUTPUT_BUFFERS).fill(undefined);
  private turn = 0;

  constructor(private readonly options: WasmBackendOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    const module = kernelModule();
    this.memory = createKernelMemory(16);
    this.heapBase = instantiateKernels(this.memory, module).heapBase();
    this.pool = new KernelPool({ threads: this.threads, module, memory: this.memory });
  }

  /**
   * Merges one tensor; returns the encoded output: a view of `resultInto` when given, else of one
   * of the output buffers, valid until the third merge after this one starts.
   */
  merge(request: TensorMergeRequest): Promise<Uint8Array> {
    const run = () => {
      const context: JobContext = {
        pool: this.pool,
        memory: this.memory,
        heapBase: this.heapBase,
        threads: this.threads,
        bufferBudget: this.options.bufferBudget ?? DEFAULT_BUFFER_BUDGET,
        windowElements: this.options.windowElements,
        chunkElements: this.options.chunkElements,
      };
      const output = this.outputTarget(request);
      const { plan, base } = request;
      if (plan.kind === "sce") {
        if (!base) throw new HubmergeError("E_INTERNAL", "an SCE kernel plan without a base tensor");
        return new SceJob({ ...request, plan, base }, output, context).run();
      }
      return new TensorJob({ ...request, plan }, output, context).run();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private outputTarget(request: TensorMergeRequest): OutputTarget {
    const into = request.resultInto;
    if (!into) return { shared: this.outputBuffer(request), offset: 0 };
    return into.buffer instanceof SharedArrayBuffer
      ? { shared: into.buffer, offset: into.byteOffset }
      : { inPlace: into };
  }

  /** The output buffer of this turn, grown to the request's output size. */
  private outputBuffer(request: TensorMergeRequest): SharedArrayBuffer {
    const bytes = request.count * DTYPE_SIZE[request.outDtype];
    const slot = this.turn;
    this.turn = (this.turn + 1) % OUTPUT_BUFFERS;
    const current = this.outputs[slot];
    if (current && current.byteLength >= bytes) return current;
    const grown = new SharedArrayBuffer(bytes);
    this.outputs[slot] = grown;
    return grown;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.pool.close();
  }
}
