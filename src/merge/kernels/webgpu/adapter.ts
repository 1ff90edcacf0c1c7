/// <reference types="@webgpu/types" />
/**
 * Opening a WebGPU device through Dawn (the optional `webgpu` package). Hardware first: on Linux
 * Dawn's Vulkan backend, which needs the Vulkan loader (libvulkan.so.1) and the driver's Vulkan
 * ICD. With `allowSoftware`, Mesa's llvmpipe through Dawn's OpenGL ES backend is the fallback (CI
 * and tests: the same shaders, on the CPU). The summary says which kind was found, so that
 * `--backend auto` uses the GPU only on real hardware.
 */
import { HubmergeError } from "../../../errors.js";
import { describeMissingVulkan } from "./vulkan-diagnostics.js";

export interface GpuAdapterSummary {
  /** The adapter's name as the driver reports it, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (…)". */
  name: string;
  vendor: string;
  /** Dawn's backend: "vulkan" (hardware path) or "opengles" (the software fallback). */
  backend: "vulkan" | "opengles";
  /** Whether this is a CPU rasterizer (llvmpipe, lavapipe, SwiftShader) rather than a GPU. */
  software: boolean;
  description: string;
}

/** The WebGPU constants a backend needs (dawn.node exposes them on its `globals`, not on globalThis). */
export interface GpuConstants {
  BufferUsage: {
    MAP_READ: number;
    COPY_SRC: number;
    COPY_DST: number;
    UNIFORM: number;
    STORAGE: number;
  };
  MapMode: { READ: number };
}

export interface OpenedGpu {
  device: GPUDevice;
  adapter: GpuAdapterSummary;
  constants: GpuConstants;
}

export interface OpenGpuOptions {
  /** Accept a software adapter (llvmpipe) when no hardware adapter is found. Default false. */
  allowSoftware?: boolean;
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software rasterizer/i;

let dawn: Promise<DawnModule> | undefined;
/**
 * Every Dawn instance created, kept alive for the process: dawn.node schedules event processing on
 * an instance, and collecting one with events pending crashes the process (seen with llvmpipe).
 */
const instances: GPU[] = [];

function createInstance(module: DawnModule, options: string[]): GPU {
  const gpu = module.create(options);
  instances.push(gpu);
  return gpu;
}

/** Loads the `webgpu` package once; a missing or broken install becomes a clear error. */
async function loadDawn(): Promise<DawnModule> {
  dawn ??= import("webgpu").then(
    (module) => module as unknown as DawnModule,
    (cause: unknown) => {
      dawn = undefined;
      throw new HubmergeError("E_USAGE", "the WebGPU backend needs the optional package `webgpu` (Dawn)", {
        hint: "Install it (npm install webgpu, on linux-x64/arm64, macOS or Windows) or use --backend wasm.",
        cause,
      });
    },
  );
  return dawn;
}

function summarize(adapter: GPUAdapter, backend: GpuAdapterSummary["backend"]): GpuAdapterSummary {
  const info = adapter.info;
  const name = info.device || info.description || info.vendor || "unknown adapter";
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    name,
    vendor: info.vendor,
    backend,
    software: fallback || SOFTWARE_NAMES.test(text),
    description: info.description,
  };
}

async function requestHardware(module: DawnModule): Promise<GPUAdapter | null> {
  const gpu = createInstance(module, []);
  return gpu.requestAdapter({ powerPreference: "high-performance" });
}

async function requestSoftware(module: DawnModule): Promise<GPUAdapter | null> {
  // Mesa's EGL needs no display server with the surfaceless platform; read when EGL first loads.
  process.env.EGL_PLATFORM ??= "surfaceless";
  const gpu = createInstance(module, ["backend=opengles"]);
  return gpu.requestAdapter({ featureLevel: "compatibility" } as GPURequestAdapterOptions);
}

/**
 * Opens a device on the best adapter: hardware through Vulkan, else (with allowSoftware) llvmpipe.
 * Throws a HubmergeError that names what is missing when there is none.
 */
export async function openGpu(options: OpenGpuOptions = {}): Promise<OpenedGpu> {
  const module = await loadDawn();
  let adapter = await requestHardware(module).catch(() => null);
  let backend: GpuAdapterSummary["backend"] = "vulkan";
  const hardware = adapter && !summarize(adapter, backend).software;
  if (!hardware && options.allowSoftware) {
    const software = await requestSoftware(module).catch(() => null);
    if (software) {
      adapter = software;
      backend = "opengles";
    }
  }
  if (!adapter || (!options.allowSoftware && summarize(adapter, backend).software)) {
    throw noAdapterError(adapter ? summarize(adapter, backend) : undefined);
  }
  const device = await adapter.requestDevice().catch((cause: unknown) => {
    throw new HubmergeError("E_INTERNAL", `the GPU adapter ${adapter.info.device} refused a device`, {
      hint: "Check the GPU driver, or use --backend wasm.",
      cause,
    });
  });
  return { device, adapter: summarize(adapter, backend), constants: constantsOf(module) };
}

/** Like openGpu, but returns the reason instead of throwing (for `--backend auto`). */
export async function tryOpenGpu(
  options: OpenGpuOptions = {},
): Promise<{ gpu: OpenedGpu; reason?: undefined } | { gpu?: undefined; reason: string }> {
  try {
    return { gpu: await openGpu(options) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

function constantsOf(module: DawnModule): GpuConstants {
  const globals = module.globals as {
    GPUBufferUsage: GpuConstants["BufferUsage"];
    GPUMapMode: GpuConstants["MapMode"];
  };
  return { BufferUsage: globals.GPUBufferUsage, MapMode: globals.GPUMapMode };
}

function noAdapterError(software: GpuAdapterSummary | undefined): HubmergeError {
  const found = software ? ` (only the software adapter ${software.name})` : "";
  const missing = describeMissingVulkan();
  return new HubmergeError("E_USAGE", `no hardware GPU adapter found for --backend webgpu${found}`, {
    hint:
      (missing.length > 0 ? `Missing: ${missing.join("; ")}. ` : "") +
      "Dawn reaches NVIDIA GPUs through Vulkan: install the Vulkan loader (libvulkan1), the driver's Vulkan ICD " +
      "(nvidia_icd.json), and in containers set NVIDIA_DRIVER_CAPABILITIES to include graphics; or use --backend wasm.",
  });
}
