/**
 * A fixed set of worker threads that run kernel calls over one shared WebAssembly memory. Inputs
 * and outputs live in that memory, so a task message carries only addresses and a few numbers.
 * Each worker runs one task at a time; a task is built for the worker that takes it (its scratch
 * region depends on which one). Idle workers do not keep the process alive.
 */
import { Worker } from "node:worker_threads";
import { HubmergeError } from "../../../../errors.js";
import type { WasmMemory, WasmModule } from "../wasm-api.js";

export interface KernelTask {
  /** Name of an exported kernel. */
  op: string;
  args: number[];
  /** u32 values stored at byte address `ptr` before the call. */
  write?: { ptr: number; values: ArrayLike<number> };
  /** u32 values read back from byte address `ptr` after the call. */
  read?: { ptr: number; count: number };
  /** Bytes copied before the call from `source` at `offset` to address `to`. */
  copyIn?: { source: SharedArrayBuffer; offset: number; length: number; to: number }[];
  /** Bytes copied after the call from address `from` to `target` at `offset`. */
  copyOut?: { from: number; length: number; target: SharedArrayBuffer; offset: number };
}

export interface KernelTaskResult {
  result: unknown;
  values?: number[];
}

interface Pending {
  build: (worker: number) => KernelTask;
  resolve: (result: KernelTaskResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

interface Reply {
  id: number;
  result?: unknown;
  values?: number[];
  error?: string;
}

const WORKER_URL = new URL("./kernel-worker.js", import.meta.url);

export class KernelPool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  constructor(options: { threads: number; module: WasmModule; memory: WasmMemory }) {
    const threads = Math.max(1, Math.floor(options.threads));
    this.slots = Array.from({ length: threads }, () => {
      const worker = new Worker(WORKER_URL, {
        workerData: { module: options.module, memory: options.memory },
      });
      const slot: Slot = { worker, busy: undefined };
      this.watch(slot);
      worker.unref(); // after the listeners: adding a "message" listener refs the worker again
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one task on the next free worker; `build` receives that worker's index. */
  run(build: (worker: number) => KernelTask): Promise<KernelTaskResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(poolError("the kernel pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ build, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.failAll(poolError("the kernel pool was closed while tasks were pending"));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    for (let index = 0; index < this.slots.length && this.queue.length > 0; index++) {
      const slot = this.slots[index]!;
      if (slot.busy) continue;
      const pending = this.queue.shift()!;
      let task: KernelTask;
      try {
        task = pending.build(index);
      } catch (error) {
        pending.reject(error as Error);
        continue;
      }
      slot.busy = pending;
      slot.worker.ref(); // a task in flight keeps the process alive until it answers
      slot.worker.postMessage({ ...task, id: this.nextId++ });
    }
  }

  private watch(slot: Slot): void {
    slot.worker.on("message", (reply: Reply) => {
      const pending = slot.busy;
      slot.busy = undefined;
      slot.worker.unref();
      if (pending) {
        if (reply.error !== undefined) pending.reject(poolError(`a kernel failed: ${reply.error}`));
        else pending.resolve({ result: reply.result, values: reply.values });
      }
      this.dispatch();
    });
    slot.worker.on("error", (error) =>
      this.fail(poolError(`a kernel worker crashed: ${error.message}`, error)),
    );
    slot.worker.on("exit", (code) => {
      if (!this.closing) this.fail(poolError(`a kernel worker exited unexpectedly (status ${code})`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.failAll(error);
  }

  private failAll(error: Error): void {
    for (const slot of this.slots) {
      slot.busy?.reject(error);
      slot.busy = undefined;
    }
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }
}

function poolError(message: string, cause?: unknown): HubmergeError {
  return new HubmergeError("E_INTERNAL", message, {
    hint: "Retry with --backend reference, and report this as a bug.",
    cause,
  });
}
