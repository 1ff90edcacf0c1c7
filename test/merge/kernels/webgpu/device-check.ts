/**
 * The device check (scripts/gpu-check.sh): the byte-equality suite on a real GPU, larger than the
 * vitest run, then the GPU/wasm/reference benchmark. Runs without vitest (from a bundle when the
 * machine has no node_modules). Exit status 1 on any difference.
 *
 *   node --import tsx test/merge/kernels/webgpu/device-check.ts [--allow-software] [--no-bench] [bench options]
 */
import { parseGpuBenchArgs, runGpuBench } from "../../../../bench/gpu.js";
import {
  openGpuBackend,
  type GpuBackend,
  type GpuBackendOptions,
} from "../../../../src/merge/kernels/webgpu/backend.js";
import {
  CONVERSIONS,
  GPU_METHODS,
  OPS,
  checkConversion,
  checkMergeCase,
  checkMethod,
  checkPartialQuads,
  checkPhiloxRandom,
  checkPhiloxVectors,
  checkPiecesCase,
  checkRandomPairs,
  checkRoundingEdges,
  checkSpecialPairs,
  largeCase,
  straddleCase,
} from "./equality-suite.js";

const args = process.argv.slice(2);
const allowSoftware = args.includes("--allow-software");
let failures = 0;

async function check(name: string, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  try {
    const result = await run();
    const note = typeof result === "number" ? ` (${result} cases on the GPU)` : "";
    console.log(`  ok    ${name}${note}  ${((performance.now() - started) / 1000).toFixed(2)} s`);
  } catch (error) {
    failures++;
    console.log(`  FAIL  ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function open(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  const runtime = await openGpuBackend({ ...options, allowSoftware });
  if (!allowSoftware && runtime.adapter.software) {
    await runtime.close();
    throw new Error(`only a software adapter was found (${runtime.adapter.name})`);
  }
  return runtime;
}

async function primitives(runtime: GpuBackend): Promise<void> {
  const context = runtime.context;
  for (const op of OPS) await check(`f32 ${op}, all special pairs`, () => checkSpecialPairs(context, op));
  for (const op of OPS)
    await check(`f32 ${op}, 16 × 2^18 random pairs`, () => checkRandomPairs(context, op, 16, 1 << 18));
  await check("f32 rounding edges", () => checkRoundingEdges(context));
  for (const [from, to] of CONVERSIONS)
    await check(`convert ${from} → ${to}`, () => checkConversion(context, from, to));
  await check("convert partial quads", () => checkPartialQuads(context));
  await check("Philox test vectors", () => checkPhiloxVectors(context));
  await check("Philox random ranges", () => checkPhiloxRandom(context, 200));
}

async function merges(): Promise<void> {
  const configs: [string, GpuBackendOptions][] = [
    ["chunks of 256", { chunkElements: 256 }],
    ["chunks of 768, re-uploaded", { chunkElements: 768, residentBytes: 1 }],
  ];
  for (const [label, options] of configs) {
    const runtime = await open(options);
    try {
      for (const method of GPU_METHODS) {
        await check(`${method}, ${label}, random cases`, () => checkMethod(runtime, method, 60));
      }
      for (const method of ["ties", "breadcrumbs_ties"]) {
        await check(`${method}, ${label}, cut straddled by equal keys`, () =>
          checkMergeCase(straddleCase(method), runtime),
        );
      }
    } finally {
      await runtime.close();
    }
  }
  const runtime = await open();
  try {
    for (const method of ["dare_ties", "ties", "task_arithmetic", "linear"]) {
      await check(`${method}, 9,000,011 elements, default chunks`, () =>
        checkMergeCase(largeCase(method, 9_000_011), runtime),
      );
    }
    for (const method of ["dare_ties", "dare_linear"]) {
      await check(`${method}, 9,000,011 elements in pieces of 2,000,000`, () =>
        checkPiecesCase(largeCase(method, 9_000_011), runtime, 2_000_000),
      );
    }
  } finally {
    await runtime.close();
  }
}

async function main(): Promise<void> {
  const runtime = await open();
  console.log(
    `adapter: ${runtime.adapter.name} (${runtime.adapter.backend}, ${runtime.adapter.software ? "software" : "hardware"}) ${runtime.adapter.description}`,
  );
  console.log("byte equality with the reference:");
  try {
    await primitives(runtime);
  } finally {
    await runtime.close();
  }
  await merges();
  console.log(failures === 0 ? "all checks passed" : `${failures} check(s) FAILED`);
  if (!args.includes("--no-bench")) {
    console.log("\nbenchmark (same machine, in memory, bf16):");
    const bench = await runGpuBench({ ...parseGpuBenchArgs(args), allowSoftware, log: () => undefined });
    console.log(bench.text);
    if (bench.rows.some((row) => row.equal === false)) failures++;
  }
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
