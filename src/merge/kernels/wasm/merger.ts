/**
 * The WebAssembly backend: one shared memory, a pool of worker threads over it, and tensor merges
 * run one at a time (TensorJob does the work). Memory stays bounded by the window budget and the
 * output buffers, however large the model is.
 *
 * Outputs that cannot go over an input go to three SharedArrayBuffers used in turn (workers write
 * results there in parallel): the executor writes unit i while i+1 and i+2 may merge. A
 * fresh buffer per tensor would not do: each worker that wrote into it keeps it reachable until
 * that worker's next garbage collection, which idle workers put off indefinitely.
 */
import { availableParallelism } from "node:os";
import { DTYPE_SIZE, type FloatDType } from "../../../safetensors/dtype.js";
import { KernelPool } from "../../workers/pool.js";
import { createKernelMemory, instantiateKernels, kernelModule } from "./load-kernels.js";
import type { TaskPlan } from "./task-plan.js";
import { TensorJob, type OutputTarget } from "./tensor-job.js";
import type { WasmMemory } from "./wasm-api.js";

export interface WasmBackendOptions {
  /** Worker threads; defaults to the available cores. */
  threads?: number;
  /** Upper bound of one of the two window buffers, bytes (default 32 MiB). */
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
  /**
   * Tensor index of element 0 when the request is a piece of a larger tensor (a multiple of 16):
   * the DARE stream is indexed by tensor element, so a piece draws what the whole tensor would.
   */
  elementOffset?: number;
  /**
   * A buffer the result may be written over: one of the inputs' own bytes that the caller gives
   * up (not overlapping another input; element size ≥ the output's, or equal to it when the input
   * is in a SharedArrayBuffer, which workers copy in chunk by chunk). Saves the output buffers.
   */
  resultInto?: Uint8Array;
}

const DEFAULT_BUFFER_BUDGET = 32 * 1024 * 1024;
/** Output buffers used in turn: a result stays valid until the third merge after it starts. */
const OUTPUT_BUFFERS = 3;

export class WasmMergeBackend {
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
    const run = () =>
      new TensorJob(request, this.outputTarget(request), {
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
