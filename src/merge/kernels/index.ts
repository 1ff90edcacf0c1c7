/**
 * Chooses the kernel backend a run merges with (`--backend`): the reference, wasm, WebGPU, or
 * `auto`. Every choice is one KernelBackend; with a GPU it is a composition that offers each tensor
 * to the GPU first, then to wasm (or the reference where wasm cannot load).
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { KernelBackend } from "./backend.js";
import { openReferenceBackend } from "./reference/backend.js";
import { wasmKernelsAvailable } from "./wasm/load-kernels.js";
import { openWasmBackend } from "./wasm/backend.js";
import { openGpuBackend, openHardwareGpuBackend, type GpuBackend } from "./webgpu/backend.js";

export type { KernelBackend } from "./backend.js";
export type { PieceQuery, TensorMergeArgs } from "./request.js";

export type BackendName = "reference" | "wasm" | "webgpu" | "auto";
export const BACKEND_NAMES: readonly BackendName[] = ["auto", "reference", "wasm", "webgpu"];

export async function openKernels(choice: BackendName = "auto", threads?: number): Promise<KernelBackend> {
  const count = Math.max(1, Math.floor(threads ?? availableParallelism()));
  const cpu = openCpuBackend(choice === "webgpu" ? "auto" : choice, count);
  const gpu = await openGpuFor(choice);
  return gpu ? gpuThenCpu(gpu, cpu) : cpu;
}

/**
 * The CPU backend: wasm, or the reference when chosen, or for `auto` where this Node cannot run
 * the kernels (`wasm` then fails with E_USAGE).
 */
export function openCpuBackend(choice: "reference" | "wasm" | "auto", threads: number): KernelBackend {
  if (choice === "reference" || (choice === "auto" && !wasmKernelsAvailable())) return openReferenceBackend();
  return openWasmBackend({ threads });
}

/** The GPU first where it applies, then the CPU backend. */
function gpuThenCpu(gpu: GpuBackend, cpu: KernelBackend): KernelBackend {
  return {
    label: `${gpu.label} + ${cpu.label}`,
    async tryMerge(args) {
      return (await gpu.tryMerge(args)) ?? cpu.tryMerge(args);
    },
    // The CPU backend takes every piece a GPU declines (e.g. past its u32 indices), so pieces need it.
    canMergePieces: (query) => cpu.canMergePieces(query),
    pieceElements: gpu.pieceElements,
    async close() {
      await Promise.all([cpu.close(), gpu.close()]);
    },
  };
}

/**
 * `webgpu` insists on a GPU (a clear error says what is missing); `auto` uses one only when a
 * hardware adapter opens, and only probes where a GPU device node exists, so machines without one
 * never load the native Dawn module.
 */
async function openGpuFor(choice: BackendName): Promise<GpuBackend | undefined> {
  if (choice === "webgpu")
    return openGpuBackend({ allowSoftware: process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"] === "1" });
  if (choice !== "auto" || !(existsSync("/dev/nvidia0") || existsSync("/dev/dri"))) return undefined;
  return (await openHardwareGpuBackend()).backend;
}
