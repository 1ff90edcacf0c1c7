/**
 * The kernels of nearswap and sce, side by side in one run on the same in-memory bf16 tensors: the
 * reference (the executor's decode, method.merge, encode), wasm on 1 thread and on N threads, and
 * with `gpu` the WebGPU backend (nearswap only: it declines sce). Merges alone, no disk; every
 * output is compared with the reference's by hash.
 *
 *   npm run bench -- --kernels [--elements 16M] [--tensor 4M] [--threads N] [--repeat 3] [--gpu]
 *                   [--allow-software]
 *
 * `npm run bench` prints the same table after its streaming rows.
 */
import { availableParallelism } from "node:os";
import type { KernelBackend } from "../src/merge/kernels/backend.js";
import type { ResolvedParams } from "../src/merge/types.js";
import { openWasmBackend } from "../src/merge/kernels/wasm/backend.js";
import { openGpuBackend } from "../src/merge/kernels/webgpu/backend.js";
import {
  fineTunesOf,
  hashOf,
  mergeArgs,
  referenceMerge,
  synthTensors,
  type Tensor,
} from "./kernel-tensors.js";

/** The merges measured: a method and its global parameters, named as the table shows them. */
export const KERNEL_MERGES: { name: string; method: string; global: ResolvedParams }[] = [
  { name: "nearswap t=1e-4", method: "nearswap", global: { t: 0.0001 } },
  { name: "sce select_topk=1", method: "sce", global: { select_topk: 1 } },
  { name: "sce select_topk=0.5", method: "sce", global: { select_topk: 0.5 } },
];

export interface MethodKernelOptions {
  /** Elements per model, cut into tensors of `tensorElements`. */
  elements: number;
  tensorElements: number;
  threads: number;
  /** Rounds of the fast rows; each keeps its fastest (the reference runs once). */
  repeats: number;
  /** Add a WebGPU row (a hardware adapter, or llvmpipe with allowSoftware). */
  gpu: boolean;
  allowSoftware: boolean;
}

export interface MethodKernelRow {
  /** The merge's name in KERNEL_MERGES. */
  method: string;
  label: string;
  elements: number;
  seconds: number;
  /** Output hashes equal to the reference's; undefined for the reference row and declined ones. */
  equal?: boolean;
  declined?: boolean;
}

interface Run {
  seconds: number;
  hashes: string[];
}

type Merge = (typeof KERNEL_MERGES)[number];

async function timeBackend(backend: KernelBackend, merge: Merge, tensors: Tensor[]): Promise<Run> {
  const hashes: string[] = [];
  let seconds = 0;
  for (const tensor of tensors) {
    const args = mergeArgs(merge.method, tensor, merge.global);
    const started = performance.now();
    const out = await backend.tryMerge(args);
    seconds += (performance.now() - started) / 1000;
    hashes.push(out ? hashOf(out) : "declined");
  }
  return { seconds, hashes };
}

function timeReference(merge: Merge, tensors: Tensor[]): Run {
  const hashes: string[] = [];
  let seconds = 0;
  for (const tensor of tensors) {
    const args = mergeArgs(merge.method, tensor, merge.global);
    const started = performance.now();
    const out = referenceMerge(args);
    seconds += (performance.now() - started) / 1000;
    hashes.push(hashOf(out));
  }
  return { seconds, hashes };
}

async function openBackends(options: MethodKernelOptions): Promise<[string, KernelBackend][]> {
  const backends: [string, KernelBackend][] = [
    ["wasm 1 thread", openWasmBackend({ threads: 1 })],
    [`wasm ${options.threads} threads`, openWasmBackend({ threads: options.threads })],
  ];
  if (options.gpu) {
    const gpu = await openGpuBackend({ allowSoftware: options.allowSoftware });
    backends.push([`webgpu (${gpu.adapter.name})`, gpu]);
  }
  return backends;
}

export async function measureMethodKernels(
  options: MethodKernelOptions,
  log: (line: string) => void = () => undefined,
): Promise<{ rows: MethodKernelRow[]; text: string }> {
  const count = Math.max(1, Math.round(options.elements / options.tensorElements));
  const tensors = synthTensors(count, options.tensorElements, 2);
  const elements = count * options.tensorElements;
  const backends = await openBackends(options);
  const rows: MethodKernelRow[] = [];
  try {
    const warm = synthTensors(1, 65536, 2);
    for (const merge of KERNEL_MERGES) {
      const method = merge.name;
      timeReference(merge, warm); // compiled by V8 before the clock starts, as the fast rows are
      const reference = timeReference(merge, tensors);
      rows.push({ method, label: "reference", elements, seconds: reference.seconds });
      for (const [label, backend] of backends) {
        await timeBackend(backend, merge, warm); // workers started, pipelines compiled
        let best: Run | undefined;
        for (let round = 0; round < options.repeats; round++) {
          const run = await timeBackend(backend, merge, tensors);
          if (!best || run.seconds < best.seconds) best = run;
        }
        const declined = best!.hashes.includes("declined");
        const equal = declined ? undefined : best!.hashes.every((h, i) => h === reference.hashes[i]);
        rows.push({ method, label, elements, seconds: best!.seconds, equal, declined });
      }
      log(`  measured: ${method}`);
    }
  } finally {
    await Promise.all(backends.map(([, backend]) => backend.close()));
  }
  const text = formatMethodKernels(rows, tensors.length, options.tensorElements);
  return { rows, text };
}

export function formatMethodKernels(
  rows: MethodKernelRow[],
  tensors: number,
  tensorElements: number,
): string {
  const header = ["method", "backend", "M elements/s", "× reference", "output"];
  const body = rows.map((row) => {
    const reference = rows.find((r) => r.method === row.method && r.label === "reference")!;
    const rate = row.elements / row.seconds;
    const output =
      row === reference ? "—" : row.declined ? "declined" : row.equal ? "= reference" : "DIFFERS";
    return [
      row.method,
      row.label,
      row.declined ? "—" : (rate / 1e6).toFixed(1),
      row.declined ? "—" : `${(reference.seconds / row.seconds).toFixed(1)}×`,
      output,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const inputs = ["nearswap", "sce"].map((m) => `${m}: base + ${fineTunesOf(m)}`).join(", ");
  return [
    `method kernels alone, in memory: ${tensors} × ${tensorElements} bf16 elements per model (${inputs})`,
    line(header),
    ...body.map(line),
  ].join("\n");
}

function parseCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMG])?$/i.exec(text.trim());
  if (!match) throw new Error(`bad element count "${text}" (e.g. 16M)`);
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(match[2] ?? "").toUpperCase() as "K"] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** `--elements 16M --tensor 4M --threads N --repeat 3 --gpu --allow-software`. */
export function parseMethodKernelArgs(argv: string[]): MethodKernelOptions {
  const flag = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    elements: parseCount(flag("--elements") ?? "16M"),
    tensorElements: parseCount(flag("--tensor") ?? "4M"),
    threads: Number(flag("--threads") ?? availableParallelism()),
    repeats: Math.max(1, Math.floor(Number(flag("--repeat") ?? 3))),
    gpu: argv.includes("--gpu"),
    allowSoftware: argv.includes("--allow-software"),
  };
}
