import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exposeWebgpu, gpuFallbackWarning, type GpuHost } from "../../src/action/gpu-note.js";
import { locateWebgpu, WEBGPU_PATH_ENV } from "../../src/merge/kernels/webgpu/webgpu-module.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const WEBGPU = fileURLToPath(new URL("../../node_modules/webgpu", import.meta.url));

const VULKAN = ["the Vulkan loader libvulkan.so.1 (apt-get install libvulkan1)"];

function host(files: string[], webgpu: boolean): GpuHost {
  return {
    exists: (path) => files.includes(path),
    readiness: () => ({ webgpuFound: webgpu, vulkanMissing: VULKAN }),
  };
}

describe("backend: auto on a machine with a GPU device", () => {
  it("warns that webgpu is missing when the merge fell back to wasm", () => {
    const warning = gpuFallbackWarning("wasm (16 threads)", host(["/dev/nvidia0"], false));
    expect(warning).toMatch(/^\/dev\/nvidia0 exists, but the merge ran on wasm \(16 threads\)/);
    expect(warning).toContain("missing: the package webgpu");
    expect(warning).toContain("npm install --no-save webgpu");
  });

  it("names the Vulkan pieces when webgpu is there but no adapter opened", () => {
    const warning = gpuFallbackWarning("wasm (2 threads)", host(["/dev/dri", "/dev/nvidia0"], true));
    expect(warning).toContain("/dev/nvidia0 and /dev/dri exist");
    expect(warning).toContain("libvulkan.so.1");
  });

  it("says nothing when the GPU ran, or when there is no GPU device", () => {
    expect(gpuFallbackWarning("webgpu (NVIDIA H200) + wasm (16 threads)", host(["/dev/nvidia0"], true))).toBe(
      undefined,
    );
    expect(gpuFallbackWarning("wasm (2 threads)", host([], false))).toBe(undefined);
  });
});

describe("where the Action looks for webgpu", () => {
  it("finds it in the workspace's node_modules, or in webgpu-path (a folder or the package itself)", async () => {
    const workspace = await tempDir();
    const env: NodeJS.ProcessEnv = {};
    exposeWebgpu(workspace, undefined, env);
    expect(locateWebgpu(env)).toBe(undefined);
    await mkdir(join(workspace, "node_modules"));
    await symlink(WEBGPU, join(workspace, "node_modules", "webgpu"));
    expect(locateWebgpu(env)).toMatch(/webgpu[/\\]index\.js$/);

    const other: NodeJS.ProcessEnv = {};
    exposeWebgpu(await tempDir(), WEBGPU, other);
    expect(other[WEBGPU_PATH_ENV]!.startsWith(WEBGPU)).toBe(true);
    expect(locateWebgpu(other)).toMatch(/webgpu[/\\]index\.js$/);
  });

  it("ignores a folder whose package.json is not webgpu's", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "other", main: "index.js" }));
    await writeFile(join(dir, "index.js"), "");
    expect(locateWebgpu({ [WEBGPU_PATH_ENV]: dir })).toBe(undefined);
  });
});
