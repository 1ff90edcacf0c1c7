/**
 * The Action's side of the GPU backend: where `webgpu` is looked up (dist/ ships no node_modules),
 * and, for `backend: auto` on a machine with a GPU device, a warning naming what kept the merge
 * off it, since auto otherwise falls back to wasm without a word.
 */
import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import { gpuReadiness, WEBGPU_PATH_ENV, type GpuReadiness } from "../pipeline/index.js";

/** Device nodes that mean "this machine has a GPU" (NVIDIA's, and any DRM device). */
export const GPU_DEVICE_NODES = ["/dev/nvidia0", "/dev/dri"];

/** Lets the GPU backend find `webgpu` in the webgpu-path input and in the workspace's node_modules. */
export function exposeWebgpu(workspace: string, webgpuPath: string | undefined, env = process.env): void {
  const dirs = [webgpuPath, env[WEBGPU_PATH_ENV], workspace].filter((d): d is string => Boolean(d));
  env[WEBGPU_PATH_ENV] = dirs.join(delimiter);
}

export interface GpuHost {
  exists(path: string): boolean;
  readiness(): GpuReadiness;
}

const host: GpuHost = { exists: existsSync, readiness: () => gpuReadiness() };

/**
 * The warning for a merge that ran on `kernels` (the run's label) although a GPU device node
 * exists; undefined when the GPU was used or there is none.
 */
export function gpuFallbackWarning(kernels: string, on: GpuHost = host): string | undefined {
  if (kernels.startsWith("webgpu")) return undefined;
  const nodes = GPU_DEVICE_NODES.filter((node) => on.exists(node));
  if (nodes.length === 0) return undefined;
  const readiness = on.readiness();
  const missing = readiness.webgpuFound
    ? readiness.vulkanMissing
    : [
        "the package webgpu (run `npm install --no-save webgpu` in the workspace before this step, or set " +
          "the webgpu-path input)",
      ];
  const why = missing.length > 0 ? `missing: ${missing.join("; ")}` : "Dawn opened no hardware adapter";
  return (
    `${nodes.join(" and ")} exist${nodes.length === 1 ? "s" : ""}, but the merge ran on ${kernels}: ${why}. ` +
    "See docs/gpu.md, or set backend: wasm to silence this."
  );
}
