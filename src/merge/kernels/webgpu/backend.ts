/**
 * The WebGPU backend's lifecycle, shaped like fast-path.ts's runtime:
 *
 *   const gpu = await createGpuRuntime({ allowSoftware: false });
 *   const bytes = (await tryGpuMerge({ ...tensorArgs, runtime: gpu })) ?? otherBackend();
 *   await gpu.close();
 *
 * Tensor merges run one at a time on the device (each already keeps two chunks in flight).
 */
import { HubmergeError } from "../../errors.js";
import type { TensorMergeRequest } from "../kernels/wasm/backend.js";
import { openGpu, tryOpenGpu, type GpuAdapterSummary, type OpenedGpu } from "./adapter.js";
import { planChunks } from "./chunk-layout.js";
import { GpuContext } from "./gpu-context.js";
import { gpuMergeRequest, type GpuMergeArgs } from "./merge-request.js";
import { GpuTensorJob } from "./tensor-job.js";

export interface GpuRuntimeOptions {
  /** Accept llvmpipe when there is no hardware adapter (tests, CI). Default false. */
  allowSoftware?: boolean;
  /** Largest binding, bytes (default 128 MiB, WebGPU's default limit). */
  bindingBytes?: number;
  /** Upper bound of a chunk, elements (default 4 Mi; tests force small chunks). */
  chunkElements?: number;
  /** Device memory for inputs kept between the passes of magnitude methods (default 1 GiB). */
  residentBytes?: number;
  /** An already opened device (the runtime takes ownership). */
  gpu?: OpenedGpu;
}

export interface GpuRuntime {
  readonly backend: "webgpu";
  /** What the run summary reports: the adapter's name, and whether it is a software one. */
  readonly adapter: GpuAdapterSummary;
  /** Merges one tensor if the kernels can; undefined means "use another backend". */
  tryMerge(args: GpuMergeArgs): Promise<Uint8Array | undefined>;
  /** Merges a request the caller built (benchmarks, tests). */
  merge(request: TensorMergeRequest): Promise<Uint8Array | undefined>;
  /** Test hook: the kernels' context (primitives.ts runs single kernels on it). */
  readonly context: GpuContext;
  close(): Promise<void>;
}

const DEFAULT_RESIDENT_BYTES = 1 << 30;

export async function createGpuRuntime(options: GpuRuntimeOptions = {}): Promise<GpuRuntime> {
  const gpu = options.gpu ?? (await openGpu({ allowSoftware: options.allowSoftware }));
  const context = new GpuContext(gpu);
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const merge = (request: TensorMergeRequest): Promise<Uint8Array | undefined> => {
    if (closed) return Promise.reject(new HubmergeError("E_INTERNAL", "the GPU runtime is closed"));
    const run = () => {
      const layout = planChunks({
        count: request.count,
        base: request.base?.dtype,
        models: request.models.map((m) => m.dtype),
        out: request.outDtype,
        bindingBytes: options.bindingBytes,
        chunkElements: options.chunkElements,
      });
      if (!layout) return undefined;
      const resident = Math.floor(
        (options.residentBytes ?? DEFAULT_RESIDENT_BYTES) / (layout.inputWords * 4),
      );
      return new GpuTensorJob(context, request, layout, { residentChunks: Math.max(2, resident) }).run();
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    backend: "webgpu",
    adapter: gpu.adapter,
    context,
    merge,
    async tryMerge(args) {
      const request = gpuMergeRequest(args);
      return request ? merge(request) : undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      context.close();
    },
  };
}

/** Merges one tensor on the GPU runtime, or returns undefined (then use wasm or the reference). */
export function tryGpuMerge(args: GpuMergeArgs & { runtime: GpuRuntime }): Promise<Uint8Array | undefined> {
  return args.runtime.tryMerge(args);
}

/**
 * For `--backend auto`: a runtime when a hardware adapter opens (never llvmpipe, which is slower
 * than wasm), otherwise the reason, for the run summary ("webgpu: no hardware adapter (...)").
 */
export async function createHardwareGpuRuntime(
  options: Omit<GpuRuntimeOptions, "allowSoftware" | "gpu"> = {},
): Promise<{ runtime: GpuRuntime; reason?: undefined } | { runtime?: undefined; reason: string }> {
  const opened = await tryOpenGpu({ allowSoftware: false });
  if (!opened.gpu) return { reason: opened.reason };
  return { runtime: await createGpuRuntime({ ...options, gpu: opened.gpu }) };
}
