/**
 * The WebAssembly backend: one shared memory, a pool of worker threads over it, and tensor merges
 * run one at a time (TensorJob does the work). Memory stays bounded by the window budget, however
 * large the tensors are.
 */
import { availableParallelism } from "node:os";
import type { FloatDType } from "../../../safetensors/dtype.js";
import { KernelPool } from "../../workers/pool.js";
import { createKernelMemory, instantiateKernels, kernelModule } from "./load-kernels.js";
import type { TaskPlan } from "./task-plan.js";
import { TensorJob } from "./tensor-job.js";
import type { WasmMemory } from "./wasm-api.js";

export interface WasmBackendOptions {
  /** Worker threads; defaults to the available cores. */
  threads?: number;
  /** Upper bound of one of the two window buffers, bytes (default 64 MiB). */
  bufferBudget?: number;
  /** Fixed window / chunk lengths in elements (tests use small ones to cross every boundary). */
  windowElements?: number;
  chunkElements?: number;
}

export interface InputBytes {
  bytes: Uint8Array;
  dtype: FloatDType;
}

export interface TensorMergeRequest {
  plan: TaskPlan;
  /** The base tensor, when plan.hasBase. */
  base?: InputBytes;
  /** One per plan term, in the same order. */
  models: readonly InputBytes[];
  outDtype: FloatDType;
  /** Elements of every input and of the output. */
  count: number;
}

const DEFAULT_BUFFER_BUDGET = 64 * 1024 * 1024;

export class WasmMergeBackend {
  readonly threads: number;
  private readonly memory: WasmMemory;
  private readonly pool: KernelPool;
  private readonly heapBase: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WasmBackendOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    const module = kernelModule();
    this.memory = createKernelMemory(16);
    this.heapBase = instantiateKernels(this.memory, module).heapBase();
    this.pool = new KernelPool({ threads: this.threads, module, memory: this.memory });
  }

  /** Merges one tensor; returns the encoded output (a fresh buffer the caller owns). */
  merge(request: TensorMergeRequest): Promise<Uint8Array> {
    const run = () =>
      new TensorJob(request, {
        pool: this.pool,
        memory: this.memory,
        heapBase: this.heapBase,
        threads: this.threads,
        bufferBudget: this.options.bufferBudget ?? DEFAULT_BUFFER_BUDGET,
        windowElements: this.options.windowElements,
        chunkElements: this.options.chunkElements,
      }).run();
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.pool.close();
  }
}
