/**
 * The WebGPU backend (a KernelBackend, plus what benchmarks and tests need):
 *
 *   const gpu = await openGpuBackend({ allowSoftware: false });
 *   const bytes = (await gpu.tryMerge(tensorArgs)) ?? otherBackend();
 *   await gpu.close();
 *
 * Tensor merges run one at a time on the device (each already keeps two chunks in flight).
 */
import { HubmergeError } from "../../../errors.js";
import type { KernelBackend } from "../backend.js";
import { canMergePieces, type PieceQuery, type TensorMergeRequest } from "../request.js";
import { openGpu, tryOpenGpu, type GpuAdapterSummary, type OpenedGpu } from "./adapter.js";
import { planChunks } from "./chunk-layout.js";
import { GpuContext } from "./gpu-context.js";
import { gpuMergeRequest, gpuRuns, MAX_GPU_ELEMENTS } from "./merge-request.js";
import { GpuTensorJob } from "./tensor-job.js";

/** Elements per piece on a GPU: 32 MiB of bf16 per input, so that uploads and dispatches stay large. */
export const GPU_PIECE_ELEMENTS = 16 * 1024 * 1024;

export interface GpuBackendOptions {
  /** Accept llvmpipe when there is no hardware adapter (tests, CI). Default false. */
  allowSoftware?: boolean;
  /** Largest binding, bytes (default 128 MiB, WebGPU's default limit). */
  bindingBytes?: number;
  /** Upper bound of a chunk, elements (default 4 Mi; tests force small chunks). */
  chunkElements?: number;
  /** Device memory for inputs kept between the passes of magnitude methods (default 1 GiB). */
  residentBytes?: number;
  /** An already opened device (the backend takes ownership). */
  gpu?: OpenedGpu;
}

export interface GpuBackend extends KernelBackend {
  /** The adapter's name, and whether it is a software one (the label says both). */
  readonly adapter: GpuAdapterSummary;
  /** Merges a request the caller built (benchmarks, tests); undefined for what the GPU declines. */
  merge(request: TensorMergeRequest): Promise<Uint8Array | undefined>;
  /** Test hook: the kernels' context (test/support/gpu-primitives.ts runs single kernels on it). */
  readonly context: GpuContext;
}

const DEFAULT_RESIDENT_BYTES = 1 << 30;

export async function openGpuBackend(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  const gpu = options.gpu ?? (await openGpu({ allowSoftware: options.allowSoftware }));
  const context = new GpuContext(gpu);
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const merge = (request: TensorMergeRequest): Promise<Uint8Array | undefined> => {
    if (closed) return Promise.reject(new HubmergeError("E_INTERNAL", "the GPU backend is closed"));
    if (!gpuRuns(request)) return Promise.resolve(undefined);
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
    label: `webgpu (${gpu.adapter.name}${gpu.adapter.software ? ", software" : ""})`,
    adapter: gpu.adapter,
    context,
    merge,
    async tryMerge(args) {
      const request = gpuMergeRequest(args);
      return request ? merge(request) : undefined;
    },
    canMergePieces: gpuTakesPieces,
    pieceElements: GPU_PIECE_ELEMENTS,
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      context.close();
    },
  };
}

/** Every piece of the tensor is a request the GPU takes: elementwise, and within u32 indices. */
function gpuTakesPieces(query: PieceQuery): boolean {
  const total = query.recipe.shape.reduce((a, b) => a * b, 1);
  return total <= MAX_GPU_ELEMENTS && canMergePieces(query);
}

/**
 * For `--backend auto`: a backend when a hardware adapter opens (never llvmpipe, which is slower
 * than wasm), otherwise the reason, for the run summary ("webgpu: no hardware adapter (...)").
 */
export async function openHardwareGpuBackend(
  options: Omit<GpuBackendOptions, "allowSoftware" | "gpu"> = {},
): Promise<{ backend: GpuBackend; reason?: undefined } | { backend?: undefined; reason: string }> {
  const opened = await tryOpenGpu({ allowSoftware: false });
  if (!opened.gpu) return { reason: opened.reason };
  return { backend: await openGpuBackend({ ...options, gpu: opened.gpu }) };
}
