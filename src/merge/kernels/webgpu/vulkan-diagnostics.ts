/**
 * What stands between Dawn and an NVIDIA GPU on Linux, for the "no adapter" message: the Vulkan
 * loader, the driver's Vulkan ICD, the driver itself, and (in containers) the graphics capability.
 */
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

const LIBRARY_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
];

const ICD_DIRS = [
  "/usr/share/vulkan/icd.d",
  "/etc/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
  "/usr/local/nvidia/share/vulkan/icd.d",
];

export interface VulkanEnvironment {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  exists(path: string): boolean;
  list(dir: string): string[];
}

const hostEnvironment: VulkanEnvironment = {
  platform: process.platform,
  env: process.env,
  exists: existsSync,
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

/** Human-readable list of the missing pieces (empty when nothing obvious is missing, or not Linux). */
export function describeMissingVulkan(host: VulkanEnvironment = hostEnvironment): string[] {
  if (host.platform !== "linux") return [];
  const missing: string[] = [];
  const libraryDirs = [...(host.env.LD_LIBRARY_PATH ?? "").split(delimiter).filter(Boolean), ...LIBRARY_DIRS];
  if (!libraryDirs.some((dir) => host.exists(join(dir, "libvulkan.so.1")))) {
    missing.push("the Vulkan loader libvulkan.so.1 (apt-get install libvulkan1)");
  }
  const explicit = (host.env.VK_DRIVER_FILES ?? host.env.VK_ICD_FILENAMES ?? "")
    .split(delimiter)
    .filter(Boolean);
  const icds = [
    ...explicit.filter((file) => host.exists(file)),
    ...ICD_DIRS.flatMap((dir) => host.list(dir).map((name) => join(dir, name))),
  ];
  const driver = host.exists("/proc/driver/nvidia/version") || host.exists("/dev/nvidiactl");
  if (driver && !icds.some((file) => /nvidia/i.test(file))) {
    missing.push(
      "the NVIDIA Vulkan ICD (nvidia_icd.json in /usr/share/vulkan/icd.d or VK_DRIVER_FILES; it comes with the driver's graphics libraries)",
    );
  }
  const capabilities = host.env.NVIDIA_DRIVER_CAPABILITIES;
  if (capabilities !== undefined && !/\b(all|graphics)\b/.test(capabilities)) {
    missing.push(
      `graphics in NVIDIA_DRIVER_CAPABILITIES (it is "${capabilities}"; e.g. compute,utility,graphics)`,
    );
  }
  if (!driver && icds.length === 0) missing.push("a GPU driver with a Vulkan ICD (none found)");
  return missing;
}
