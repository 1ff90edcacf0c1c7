import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { canMergePieces, createKernelRuntime, type FastMergeArgs, type KernelRuntime } from "../fast-path.js";
import { createGpuRuntime, createHardwareGpuRuntime, type GpuRuntime } from "../gpu/runtime.js";
import { GPU_PIECE_ELEMENTS, PIECE_ELEMENTS } from "../work-units.js";

export type BackendName = "reference" | "wasm" | "webgpu" | "auto";
export const BACKEND_NAMES: readonly BackendName[] = ["auto", "reference", "wasm", "webgpu"];

export type TensorMergeArgs = Omit<FastMergeArgs, "runtime" | "backend" | "threads">;
export type PieceQuery = Parameters<typeof canMergePieces>[0];

/** The kernels a run merges with: the GPU first where it applies, then wasm, else the reference. */
export interface Kernels {
  /** For the run summary, e.g. `wasm (2 threads)` or `webgpu (NVIDIA H100) + wasm (16 threads)`. */
  readonly label: string;
  /** Encoded output bytes, or undefined: then the caller runs the TypeScript reference. */
  tryMerge(args: TensorMergeArgs): Promise<Uint8Array | undefined>;
  /**
   * Whether tryMerge will take this tensor in pieces (`elements`), so that the caller may stream
   * it: elementwise plans (see fast-path.ts), which both fast backends take in pieces.
   */
  canMergePieces(args: PieceQuery): boolean;
  /** Elements per piece that suit these kernels: a GPU wants larger dispatches than the CPU. */
  readonly pieceElements: number;
  close(): Promise<void>;
}

export async function openKernels(choice: BackendName = "auto", threads?: number): Promise<Kernels> {
  const count = Math.max(1, Math.floor(threads ?? availableParallelism()));
  const cpu: KernelRuntime = createKernelRuntime({
    backend: choice === "webgpu" ? "auto" : choice,
    threads: count,
  });
  const gpu = await openGpuFor(choice);
  const cpuLabel = cpu.backend === "wasm" ? `wasm (${count} thread${count === 1 ? "" : "s"})` : "reference";
  const gpuLabel = gpu && `webgpu (${gpu.adapter.name}${gpu.adapter.software ? ", software" : ""})`;
  return {
    label: gpuLabel ? `${gpuLabel} + ${cpuLabel}` : cpuLabel,
    async tryMerge(args) {
      return (gpu && (await gpu.tryMerge(args))) ?? cpu.tryMerge(args);
    },
    // wasm takes every piece a GPU declines (e.g. past its u32 indices), so pieces need wasm.
    canMergePieces: (args) => cpu.backend === "wasm" && canMergePieces(args),
    pieceElements: gpu ? GPU_PIECE_ELEMENTS : PIECE_ELEMENTS,
    async close() {
      await Promise.all([cpu.close(), gpu?.close()]);
    },
  };
}

/**
 * `webgpu` insists on a GPU (a clear error says what is missing); `auto` uses one only when a
 * hardware adapter opens, and only probes where a GPU device node exists, so machines without one
 * never load the native Dawn module.
 */
async function openGpuFor(choice: BackendName): Promise<GpuRuntime | undefined> {
  if (choice === "webgpu")
    return createGpuRuntime({ allowSoftware: process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"] === "1" });
  if (choice !== "auto" || !(existsSync("/dev/nvidia0") || existsSync("/dev/dri"))) return undefined;
  return (await createHardwareGpuRuntime()).runtime;
}
