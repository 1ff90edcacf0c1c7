/**
 * Finds the optional `webgpu` package (Dawn's bindings). Beside hubmerge's own code is enough for
 * the CLI, but the bundled Action (dist/) has no node_modules: its native `dawn.node` cannot be
 * bundled and is too large to commit for every platform. So the package is also looked up in the
 * folders HUBMERGE_WEBGPU_PATH lists (the Action puts its `webgpu-path` input and the workspace
 * there): one `npm install webgpu` in the workspace is the whole setup on a GPU runner.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describeMissingVulkan } from "./vulkan-diagnostics.js";

/** Folders searched for `webgpu` after hubmerge's own, `:`-separated (`;` on Windows). */
export const WEBGPU_PATH_ENV = "HUBMERGE_WEBGPU_PATH";

export class WebgpuNotFound extends Error {
  constructor(readonly searched: string[]) {
    super(
      `the package \`webgpu\` is not installed beside hubmerge nor in ${searched.join(", ") || "any folder"}`,
    );
  }
}

/** Imports `webgpu`; throws WebgpuNotFound when no folder has it, or the module's own load error. */
export async function importWebgpu(env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  try {
    return await import("webgpu");
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const dirs = searchDirs(env);
  const entry = dirs.map(resolveIn).find((path) => path !== undefined);
  if (entry === undefined) throw new WebgpuNotFound(dirs);
  return import(pathToFileURL(entry).href);
}

/** Where `webgpu` resolves from the search folders, or undefined (for diagnostics; loads nothing). */
export function locateWebgpu(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return searchDirs(env)
    .map(resolveIn)
    .find((path) => path !== undefined);
}

export function searchDirs(env: NodeJS.ProcessEnv): string[] {
  const listed = (env[WEBGPU_PATH_ENV] ?? "").split(delimiter).filter((dir) => dir.trim() !== "");
  return [...new Set(listed.map((dir) => resolve(dir)))];
}

/** The entry file of `webgpu` as Node would find it from `dir` (or `dir` when it is the package). */
function resolveIn(dir: string): string | undefined {
  const require = createRequire(join(dir, "hubmerge-webgpu-lookup.cjs"));
  try {
    return require.resolve("webgpu");
  } catch {
    // `dir` may be the package folder itself (webgpu-path: /opt/webgpu/node_modules/webgpu).
  }
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown };
    return manifest.name === "webgpu" && existsSync(dir) ? require.resolve(dir) : undefined;
  } catch {
    return undefined;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** What can be told, without loading Dawn, about why no hardware adapter opened. */
export interface GpuReadiness {
  /** Whether `webgpu` resolves beside hubmerge or in the search folders. */
  webgpuFound: boolean;
  /** The Vulkan pieces that look missing (vulkan-diagnostics.ts). */
  vulkanMissing: string[];
}

export function gpuReadiness(env: NodeJS.ProcessEnv = process.env): GpuReadiness {
  return {
    webgpuFound: besideHubmerge() || locateWebgpu(env) !== undefined,
    vulkanMissing: describeMissingVulkan(),
  };
}

function besideHubmerge(): boolean {
  try {
    createRequire(import.meta.url).resolve("webgpu");
    return true;
  } catch {
    return false;
  }
}
