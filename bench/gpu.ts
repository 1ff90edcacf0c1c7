/**
 * Kernel benchmark of the WebGPU backend against the WebAssembly one and the reference, on the
 * same machine and the same in-memory bf16 tensors (base + 2 fine-tunes): merge throughput from
 * input bytes to output bytes, no disk. Every GPU output is compared with wasm's by hash (and the
 * first tensor with the reference's), so a fast wrong answer cannot pass unnoticed.
 *
 *   node --import tsx bench/gpu.ts [--size 256MB] [--tensor 16M] [--threads N]
 *        [--methods dare_ties,ties,task_arithmetic,linear,nearswap] [--allow-software]
 *
 * (nearswap merges one fine-tune; sce is not offered: the GPU declines it, see bench/method-kernels.ts.)
 */
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import type { KernelBackend } from "../src/merge/kernels/backend.js";
import { openWasmBackend } from "../src/merge/kernels/wasm/backend.js";
import { openGpuBackend, type GpuBackend } from "../src/merge/kernels/webgpu/backend.js";
import {
  fineTunesOf,
  hashOf,
  mergeArgs,
  referenceMerge,
  synthTensors,
  type Tensor,
} from "./kernel-tensors.js";

export interface GpuBenchOptions {
  /** Bytes of one model (bf16); split into tensors of `tensorElements`. */
  bytesPerModel: number;
  tensorElements: number;
  methods: string[];
  /** Worker threads of the wasm row (default: the available cores). */
  threads: number;
  allowSoftware: boolean;
  log?: (line: string) => void;
}

export interface GpuBenchRow {
  label: string;
  method: string;
  elements: number;
  seconds: number;
  /** Output equal (by hash) to the wasm backend's (GPU rows) or the GPU's (reference row). */
  equal?: boolean;
}

/** Bytes moved per element: the bf16 base, fine-tunes and output. */
const bytesPerElement = (method: string) => 2 * (fineTunesOf(method) + 2);

function tensorsOf(options: GpuBenchOptions): Tensor[] {
  const count = Math.max(1, Math.round(options.bytesPerModel / 2 / options.tensorElements));
  return synthTensors(count, options.tensorElements);
}

async function timeGpu(runtime: GpuBackend, method: string, tensors: Tensor[]): Promise<[number, string[]]> {
  const started = performance.now();
  // All tensors queued at once: the runtime runs them in order, uploads overlapping readbacks.
  const outputs = await Promise.all(tensors.map((t) => runtime.tryMerge(mergeArgs(method, t))));
  const seconds = (performance.now() - started) / 1000;
  return [seconds, outputs.map((o) => (o ? hashOf(o) : "declined"))];
}

async function timeWasm(
  runtime: KernelBackend,
  method: string,
  tensors: Tensor[],
): Promise<[number, string[]]> {
  const hashes: string[] = [];
  let seconds = 0;
  for (const tensor of tensors) {
    const started = performance.now();
    const out = await runtime.tryMerge(mergeArgs(method, tensor));
    seconds += (performance.now() - started) / 1000;
    hashes.push(out ? hashOf(out) : "declined");
  }
  return [seconds, hashes];
}

export async function runGpuBench(
  options: GpuBenchOptions,
): Promise<{ adapter: string; rows: GpuBenchRow[]; text: string }> {
  const log = options.log ?? console.log;
  const tensors = tensorsOf(options);
  const elements = tensors.length * options.tensorElements;
  log(`tensors: ${tensors.length} × ${options.tensorElements} bf16 elements per model (base + 2 fine-tunes)`);
  const gpu = await openGpuBackend({ allowSoftware: options.allowSoftware });
  const wasm = openWasmBackend({ threads: options.threads });
  const rows: GpuBenchRow[] = [];
  try {
    const warm = synthTensors(1, 65536);
    for (const method of options.methods) {
      await timeGpu(gpu, method, warm);
      await timeWasm(wasm, method, warm);
      const [gpuSeconds, gpuHashes] = await timeGpu(gpu, method, tensors);
      const [wasmSeconds, wasmHashes] = await timeWasm(wasm, method, tensors);
      const started = performance.now();
      const reference = hashOf(referenceMerge(mergeArgs(method, tensors[0]!)));
      const referenceSeconds = (performance.now() - started) / 1000;
      const gpuEqual = gpuHashes.every((h, i) => h === wasmHashes[i]) && gpuHashes[0] === reference;
      rows.push(
        { label: `webgpu (${gpu.adapter.name})`, method, elements, seconds: gpuSeconds, equal: gpuEqual },
        {
          label: `wasm ${options.threads} threads`,
          method,
          elements,
          seconds: wasmSeconds,
          equal: wasmHashes[0] === reference,
        },
        {
          label: "reference (first tensor)",
          method,
          elements: options.tensorElements,
          seconds: referenceSeconds,
        },
      );
      log(formatRows(rows.slice(-3)));
    }
  } finally {
    await wasm.close();
    await gpu.close();
  }
  return { adapter: gpu.adapter.name, rows, text: formatRows(rows) };
}

export function formatRows(rows: GpuBenchRow[]): string {
  const reference = new Map(rows.filter((r) => r.label.startsWith("reference")).map((r) => [r.method, r]));
  const rate = (r: GpuBenchRow) => r.elements / r.seconds;
  const lines = rows.map((r) => {
    const ref = reference.get(r.method);
    const ratio = ref ? `${(rate(r) / rate(ref)).toFixed(1)}×` : "";
    const equal = r.equal === undefined ? "" : r.equal ? "identical" : "DIFFERENT";
    return [
      r.method.padEnd(16),
      r.label.padEnd(44),
      `${(rate(r) / 1e6).toFixed(1)} M/s`.padStart(13),
      `${((rate(r) * bytesPerElement(r.method)) / 1e9).toFixed(2)} GB/s`.padStart(11),
      ratio.padStart(8),
      equal,
    ].join("  ");
  });
  const header = [
    "method".padEnd(16),
    "backend".padEnd(44),
    "elements/s".padStart(13),
    "bytes/s".padStart(11),
    "vs ref".padStart(8),
    "bytes",
  ].join("  ");
  return [header, ...lines].join("\n");
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(K|M|G|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`bad size "${text}"`);
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(match[2] ?? " ")[0]!.toUpperCase() as "K"] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

export function parseGpuBenchArgs(argv: string[]): GpuBenchOptions {
  const flag = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    bytesPerModel: parseSize(flag("--size") ?? "256M"),
    tensorElements: parseSize(flag("--tensor") ?? "16M"),
    methods: (flag("--methods") ?? "dare_ties,ties,task_arithmetic,linear,nearswap").split(","),
    threads: Number(flag("--threads") ?? availableParallelism()),
    allowSoftware: argv.includes("--allow-software"),
  };
}

if (
  process.argv[1] &&
  /bench\/gpu\.[cm]?[jt]s$/.test(process.argv[1]) &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  const result = await runGpuBench(parseGpuBenchArgs(process.argv.slice(2)));
  console.log(`\nadapter: ${result.adapter}\n${result.text}`);
  if (result.rows.some((r) => r.equal === false)) process.exitCode = 1;
}
