import { describe, expect, it } from "vitest";
import {
  describeMissingVulkan,
  type VulkanEnvironment,
} from "../../../../src/merge/kernels/webgpu/vulkan-diagnostics.js";
import { openGpu } from "../../../../src/merge/kernels/webgpu/adapter.js";
import { isHubmergeError } from "../../../../src/errors.js";
import { requireHardware } from "./gpu-setup.js";

function host(files: string[], env: Record<string, string> = {}): VulkanEnvironment {
  return {
    platform: "linux",
    env,
    exists: (path) => files.includes(path),
    list: (dir) => files.filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1)),
  };
}

describe("describeMissingVulkan", () => {
  it("names the loader, the NVIDIA ICD and the container capability", () => {
    const missing = describeMissingVulkan(
      host(["/dev/nvidiactl"], { NVIDIA_DRIVER_CAPABILITIES: "compute,utility" }),
    );
    expect(missing.join("\n")).toMatch(/libvulkan\.so\.1/);
    expect(missing.join("\n")).toMatch(/NVIDIA Vulkan ICD/);
    expect(missing.join("\n")).toMatch(/graphics in NVIDIA_DRIVER_CAPABILITIES/);
  });

  it("is empty when everything is in place", () => {
    const files = [
      "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
      "/dev/nvidiactl",
      "/usr/share/vulkan/icd.d/nvidia_icd.json",
    ];
    expect(describeMissingVulkan(host(files, { NVIDIA_DRIVER_CAPABILITIES: "all" }))).toEqual([]);
  });

  it("finds an ICD named by VK_DRIVER_FILES and a loader on LD_LIBRARY_PATH", () => {
    const files = ["/opt/vk/libvulkan.so.1", "/proc/driver/nvidia/version", "/x/nvidia_icd.json"];
    const env = { LD_LIBRARY_PATH: "/opt/vk", VK_DRIVER_FILES: "/x/nvidia_icd.json" };
    expect(describeMissingVulkan(host(files, env))).toEqual([]);
  });

  it("says nothing off Linux", () => {
    expect(describeMissingVulkan({ ...host([]), platform: "darwin" })).toEqual([]);
  });
});

describe("openGpu", () => {
  it.skipIf(requireHardware)("reports llvmpipe as a software adapter, or says what is missing", async () => {
    try {
      const gpu = await openGpu({ allowSoftware: true });
      expect(typeof gpu.adapter.name).toBe("string");
      if (/llvmpipe/i.test(gpu.adapter.name)) expect(gpu.adapter.software).toBe(true);
      gpu.device.destroy();
    } catch (error) {
      expect(isHubmergeError(error, "E_USAGE")).toBe(true);
    }
  });

  it.skipIf(requireHardware)("refuses a software adapter unless allowed", async () => {
    const error = await openGpu({ allowSoftware: false }).then(
      (gpu) => (gpu.device.destroy(), gpu.adapter.software ? "software accepted" : undefined),
      (e: unknown) => e,
    );
    if (error === undefined) return; // a hardware GPU is present
    expect(isHubmergeError(error, "E_USAGE")).toBe(true);
    expect((error as Error & { hint?: string }).hint).toMatch(/Vulkan/);
  });
});
