/**
 * `npm run bench`: generates synthetic bf16 models (base + 2 fine-tunes), then measures in one run
 * the I/O floor, the reference backend and the wasm backend at 1 and N threads for dare_ties and
 * task_arithmetic (best of --repeat interleaved rounds), peak RSS at two model sizes, and exact
 * top-k against sorting. Prints ratios; asserts nothing about time. Each configuration runs in its
 * own process (for its own peak RSS) unless --in-process.
 */
import { mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RESULT_PREFIX } from "./child.js";
import { benchModels, childBeside, FINE_TUNES, runChild, type BenchModels } from "./fixture.js";
import { parseOptions, type BenchOptions } from "./options.js";
import { formatTable, formatTargets, type Row, type Target } from "./report.js";
import { streamMerge, type Backend, type StreamConfig, type StreamResult } from "./stream-merge.js";
import {
  FULL_DIMENSIONS,
  QUICK_DIMENSIONS,
  largestTensorBytes,
  modelBytes,
  type ModelShape,
} from "./synth-models.js";
import { measureMethodKernels, parseMethodKernelArgs, type MethodKernelRow } from "./method-kernels.js";
import { measureTopK, type TopKResult } from "./topk.js";
import { measureVerify } from "./verify.js";

const METHODS = ["dare_ties", "task_arithmetic"];
/** child.ts next to this file (child.js when the benchmark is bundled or compiled). */
const CHILD = childBeside(import.meta.url, "child");

export interface BenchReport {
  rows: Row[];
  rss: { sizes: [number, number]; bytes: [number | undefined, number | undefined]; bound: number };
  topK: TopKResult;
  /** nearswap and sce: the reference and wasm at 1 and N threads, merges alone (method-kernels.ts). */
  kernels: MethodKernelRow[];
  text: string;
}

interface Configuration {
  label: string;
  backend: Backend;
  method: string;
  threads: number;
  kernelOnly?: boolean;
}

const KERNELS_ONLY = (threads: number) => `wasm ${threads} threads dare_ties, merges alone (no I/O)`;

function configurations(threads: number): Configuration[] {
  const list: Configuration[] = [
    { label: "I/O floor (read + write, no math)", backend: "io", method: "-", threads: 1 },
  ];
  for (const method of METHODS) {
    list.push(
      { label: `reference ${method}`, backend: "reference", method, threads: 1 },
      { label: `wasm 1 thread ${method}`, backend: "wasm", method, threads: 1 },
      { label: `wasm ${threads} threads ${method}`, backend: "wasm", method, threads },
    );
  }
  // What the target row would take with infinitely fast I/O: a lower bound for it on this machine.
  list.push({
    label: KERNELS_ONLY(threads),
    backend: "wasm",
    method: "dare_ties",
    threads,
    kernelOnly: true,
  });
  return list;
}

/**
 * Every configuration `repeats` times in interleaved rounds (the slow reference once), keeping the
 * fastest run of each and the highest peak RSS: a disk or a neighbour that slows one round slows
 * the floor and the merges alike, and noise only ever adds time.
 */
async function measureAll(
  options: BenchOptions,
  models: string[],
  log: (line: string) => void,
): Promise<Row[]> {
  const list = configurations(options.threads);
  const best = new Map<Configuration, Row>();
  for (let round = 0; round < options.repeats; round++) {
    for (const config of list) {
      if (config.backend === "reference" && round > 0) continue;
      const result = await measure({ ...config, models }, options.inProcess);
      log(`  measured: ${config.label} (${result.seconds.toFixed(2)} s)`);
      const previous = best.get(config);
      const maxRssBytes = Math.max(previous?.maxRssBytes ?? 0, result.maxRssBytes ?? 0) || undefined;
      const faster = !previous || result.seconds < previous.seconds ? result : previous;
      best.set(config, { ...faster, label: config.label, method: config.method, maxRssBytes });
    }
  }
  return list.map((config) => best.get(config)!);
}

/** Runs one configuration: in a child process (own peak RSS) or here. */
async function measure(
  config: Omit<StreamConfig, "outDir">,
  inProcess: boolean,
): Promise<StreamResult & { maxRssBytes?: number }> {
  if (inProcess) {
    const outDir = await mkdtemp(join(tmpdir(), "hubmerge-bench-out-"));
    try {
      return await streamMerge({ ...config, outDir });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }
  return runChild<StreamResult & { maxRssBytes: number }>(CHILD, config, RESULT_PREFIX, "benchmark child");
}

/**
 * Reads every input file once, so that all configurations start from a warm page cache. Through
 * one small buffer: this process's memory must stay small, as children forked from it inherit
 * its resident pages until they exec.
 */
async function warmPageCache(folders: string[]): Promise<void> {
  const buffer = new Uint8Array(1 << 22);
  for (const folder of folders) {
    for (const file of await readdir(folder)) {
      const handle = await open(join(folder, file), "r");
      try {
        while ((await handle.read(buffer, 0, buffer.byteLength)).bytesRead > 0);
      } finally {
        await handle.close();
      }
    }
  }
}

/** The models of `size` bytes each; a size that rounds to `avoid`'s layer count gets twice its layers. */
function modelSet(options: BenchOptions, size: number, avoid?: ModelShape): Promise<BenchModels> {
  const dimensions = options.quick ? QUICK_DIMENSIONS : FULL_DIMENSIONS;
  return benchModels({ dir: options.dir, size, dimensions, avoid });
}

export async function runBench(
  options: BenchOptions,
  log: (line: string) => void = console.log,
): Promise<BenchReport> {
  const main = await modelSet(options, options.size);
  log(
    `models: base + ${FINE_TUNES} fine-tunes, bf16, ${size(modelBytes(main.shape))} each (${main.shape.layers} layers), in ${options.dir}`,
  );
  await warmPageCache(main.folders);
  const rows = await measureAll(options, main.folders, log);
  rows.push(...(await measureVerify(main.folders, options.threads)));
  const second = await modelSet(options, options.rssSize, main.shape);
  await warmPageCache(second.folders);
  const rssConfig = {
    backend: "wasm" as const,
    method: "dare_ties",
    threads: options.threads,
    models: second.folders,
  };
  const secondRss = (await measure(rssConfig, options.inProcess)).maxRssBytes;
  const firstRss = rows.find((r) => r.label === `wasm ${options.threads} threads dare_ties`)!.maxRssBytes;
  const bound = 2 * (FINE_TUNES + 1) * largestTensorBytes(main.shape) + 200e6;
  const topK = measureTopK(options.topKElements);
  const kernels = await measureMethodKernels(
    {
      elements: options.quick ? 1 << 20 : 1 << 24,
      tensorElements: options.quick ? 1 << 18 : 1 << 22,
      threads: options.threads,
      repeats: options.repeats,
      gpu: false,
      allowSoftware: false,
    },
    log,
  );
  if (!options.keep) await rm(options.dir, { recursive: true, force: true });
  const report = {
    rows,
    rss: {
      sizes: [modelBytes(main.shape), modelBytes(second.shape)] as [number, number],
      bytes: [firstRss, secondRss] as [number | undefined, number | undefined],
      bound,
    },
    topK,
    kernels: kernels.rows,
  };
  const text = `${render(report, options)}\n${kernels.text}\n`;
  log(text);
  return { ...report, text };
}

function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(0)} MB`;
}

function render(report: Omit<BenchReport, "text" | "kernels">, options: BenchOptions): string {
  const { rows, rss, topK } = report;
  const floor = Math.min(...rows.filter((r) => r.method === "-").map((r) => r.seconds));
  const find = (label: string) => rows.find((r) => r.label === label)!;
  const ratio = (a: number, b: number) => a / b;
  const speedup = ratio(find("reference dare_ties").seconds, find("wasm 1 thread dare_ties").seconds);
  const allCores = ratio(find(`wasm ${options.threads} threads dare_ties`).seconds, floor);
  const mergesAlone = ratio(find(KERNELS_ONLY(options.threads)).seconds, floor);
  const [r1, r2] = rss.bytes;
  const rssSpread = r1 && r2 ? Math.abs(r1 - r2) / Math.min(r1, r2) : undefined;
  const topKRatio = topK.sortSeconds / topK.selectSeconds;
  const mb = (bytes: number | undefined) => (bytes === undefined ? "n/a" : size(bytes));
  const targets: Target[] = [
    {
      what: "wasm 1 thread vs reference, dare_ties",
      value: `${speedup.toFixed(1)}× (target ≥ 4×)`,
      met: speedup >= 4,
    },
    {
      what: `dare_ties, ${options.threads} threads, vs the I/O floor`,
      value: `${allCores.toFixed(2)}× (target ≤ 1.5×; its merges alone, with no I/O at all, take ${mergesAlone.toFixed(2)}×${mergesAlone > 1.5 ? ": compute-bound on this machine" : ""})`,
      met: allCores <= 1.5,
    },
    {
      what: `peak RSS, wasm ${options.threads} threads dare_ties, at ${size(rss.sizes[0])} and ${size(rss.sizes[1])} models`,
      value: `${mb(r1)} and ${mb(r2)}${rssSpread === undefined ? "" : `, ${(rssSpread * 100).toFixed(1)}% apart`} (target ≤ 10%)`,
      met: rssSpread === undefined ? undefined : rssSpread <= 0.1,
    },
    {
      what: "peak RSS bound 2 × (N+1) × largest tensor + 200 MB",
      value: `${mb(Math.max(r1 ?? 0, r2 ?? 0) || undefined)} vs ${mb(rss.bound)}`,
      met: r1 === undefined ? undefined : Math.max(r1, r2 ?? 0) < rss.bound,
    },
    {
      what: `exact top-k threshold of ${topK.elements} elements vs sort`,
      value: `${(topK.selectSeconds * 1e3).toFixed(1)} ms vs ${(topK.sortSeconds * 1e3).toFixed(0)} ms = ${topKRatio.toFixed(0)}× (target ≥ 20×; reference TS select ${(topK.referenceSeconds * 1e3).toFixed(0)} ms)`,
      met: topKRatio >= 20,
    },
  ];
  const runs =
    options.repeats > 1
      ? `each row: the fastest of ${options.repeats} interleaved runs (the reference: one run)`
      : "each row: one run";
  return `\n${formatTable(rows, floor)}\n${runs}\n\n${formatTargets(targets)}\n`;
}

/** `--parts` runs the N-runner table (bench/parts.ts); `--link` runs the link table (bench/link.ts); `--kernels` only the nearswap/sce kernel table (bench/method-kernels.ts); `--backend webgpu` runs the GPU table (GPU vs wasm vs reference on one machine, bench/gpu.ts). */
async function main(argv: string[]): Promise<void> {
  if (argv.includes("--parts")) {
    const { parsePartsOptions, runPartsBench } = await import("./parts.js");
    await runPartsBench(parsePartsOptions(argv.filter((a) => a !== "--parts")));
    return;
  }
  if (argv.includes("--kernels")) {
    const options = parseMethodKernelArgs(argv.filter((a) => a !== "--kernels"));
    console.log((await measureMethodKernels(options, console.log)).text);
    return;
  }
  if (argv.includes("--link")) {
    const { parseLinkOptions, runLinkBench } = await import("./link.js");
    await runLinkBench(parseLinkOptions(argv.filter((a) => a !== "--link")));
    return;
  }
  const at = argv.indexOf("--backend");
  if (at < 0) {
    await runBench(parseOptions(argv));
    return;
  }
  if (argv[at + 1] !== "webgpu")
    throw new Error("--backend takes webgpu (the CPU table always runs wasm and the reference)");
  const { formatRows, parseGpuBenchArgs, runGpuBench } = await import("./gpu.js");
  const result = await runGpuBench(parseGpuBenchArgs(argv.filter((_, i) => i !== at && i !== at + 1)));
  console.log(formatRows(result.rows));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
