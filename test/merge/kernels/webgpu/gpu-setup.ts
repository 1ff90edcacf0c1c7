/**
 * The device the GPU tests run on: any adapter (llvmpipe through Dawn's OpenGL ES backend on
 * machines without a GPU), or only real hardware when HUBMERGE_GPU_REQUIRE_HARDWARE=1 (the device
 * check script), in which case a missing GPU fails the tests instead of skipping them.
 */
import {
  openGpuBackend,
  type GpuBackend,
  type GpuBackendOptions,
} from "../../../../src/merge/kernels/webgpu/backend.js";

export const requireHardware = process.env.HUBMERGE_GPU_REQUIRE_HARDWARE === "1";

/** A runtime, or undefined (after saying why) when no adapter can be created at all. */
export async function openTestRuntime(options: GpuBackendOptions = {}): Promise<GpuBackend | undefined> {
  try {
    const runtime = await openGpuBackend({ ...options, allowSoftware: !requireHardware });
    if (requireHardware && runtime.adapter.software) {
      await runtime.close();
      throw new Error(`only a software adapter was found (${runtime.adapter.name})`);
    }
    return runtime;
  } catch (error) {
    if (requireHardware) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`GPU tests skipped: no WebGPU adapter could be created (${reason})`);
    return undefined;
  }
}
