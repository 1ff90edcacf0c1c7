/**
 * The benchmark's merge loop: the executor's own pipeline (src/merge/tensor-pipeline.ts: the next
 * tensor is read into reused buffers while the current one merges, and written while the one after
 * merges), with the compute step swapped per configuration. The "io" configuration does no math
 * at all: it writes the base's bytes, so its time is the floor every other configuration is
 * measured against.
 */
import { createHash } from "node:crypto";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { KernelBackend } from "../src/merge/kernels/backend.js";
import { openWasmBackend } from "../src/merge/kernels/wasm/backend.js";
import { methodRegistry } from "../src/merge/methods/registry.js";
import type { TensorRecipe } from "../src/merge/plan/types.js";
import { ReadBuffers } from "../src/merge/read-buffers.js";
import { runTensorPipeline } from "../src/merge/tensor-pipeline.js";
import { elementCount, workUnits, type WorkUnit } from "../src/merge/work-units.js";
import type { MergeInput, ResolvedParams } from "../src/merge/types.js";
import { decodeToF32, encodeFromF32 } from "../src/safetensors/dtype.js";
import { SafetensorsModel } from "../src/safetensors/reader.js";
import { planShards } from "../src/safetensors/shard-plan.js";
import { ShardedWriter } from "../src/safetensors/writer.js";
import { LocalSource } from "../src/source/local-source.js";

export type Backend = "io" | "reference" | "wasm";

export interface StreamConfig {
  backend: Backend;
  method: string;
  threads: number;
  /** Folders: the base first, then the fine-tunes. */
  models: string[];
  /**
   * Time the merges alone: every unit's inputs are read into memory before the clock starts and
   * nothing is written. What the merge would cost with infinitely fast I/O.
   */
  kernelOnly?: boolean;
  outDir: string;
}

export interface StreamResult {
  seconds: number;
  elements: number;
  bytesRead: number;
  bytesWritten: number;
  /** SHA-256 of the output shards (outside the timed part): equal bytes across backends. */
  outputHash: string;
}

const SEED = 20260101n;
/** Per-model parameters of the benchmark merges (DARE's densities are its typical 0.3–0.5). */
const MODEL_PARAMS: ResolvedParams[] = [
  { weight: 0.6, density: 0.3 },
  { weight: 0.4, density: 0.5 },
];

interface Loaded {
  base: Uint8Array;
  models: Uint8Array[];
}

export async function streamMerge(config: StreamConfig): Promise<StreamResult> {
  const models = await Promise.all(
    config.models.map((dir, i) =>
      SafetensorsModel.open(new LocalSource(i === 0 ? "bench/base" : `bench/ft${i}`, dir)),
    ),
  );
  const [base, ...fineTunes] = models as [SafetensorsModel, ...SafetensorsModel[]];
  const names = base.tensorNames();
  const runtime = await startRuntime(config);
  const plan = planShards(
    names.map((name) => ({ name, dtype: "BF16" as const, shape: base.info(name).shape })),
  );
  const writer = new ShardedWriter({ dir: config.outDir, plan });
  const all = [base, ...fineTunes];
  // The executor's units: large tensors in pieces, except on the reference (which needs them whole).
  const units = workUnits(
    names.map((name) => benchRecipe(name, base.info(name).shape, fineTunes.length)),
    () => config.backend !== "reference",
  );
  if (config.kernelOnly) {
    const result = await kernelsAlone(config, runtime, units, all);
    await runtime?.close();
    await Promise.all(models.map((m) => m.close()));
    return result;
  }
  const buffers = new ReadBuffers();
  let elements = 0;
  let bytesRead = 0;
  const started = performance.now();
  await runTensorPipeline({
    count: units.length,
    async read(i, set) {
      const { recipe, piece } = units[i]!;
      const count = piece?.count ?? elementCount(recipe);
      const views = all.map((_, slot) => buffers.lease(set, slot, count * 2));
      await Promise.all(
        all.map((model, slot) => model.readTensorInto(recipe.name, views[slot]!, (piece?.offset ?? 0) * 2)),
      );
      const [b, ...rest] = views;
      return { base: b!, models: rest };
    },
    async merge(i, loaded) {
      elements += loaded.base.byteLength / 2;
      bytesRead += loaded.base.byteLength + loaded.models.reduce((sum, m) => sum + m.byteLength, 0);
      return compute(config, runtime, units[i]!, loaded);
    },
    write: (i, bytes) => {
      const { recipe, piece } = units[i]!;
      return piece
        ? writer.writeTensorPart(recipe.name, piece.offset * 2, bytes)
        : writer.writeTensor(recipe.name, bytes);
    },
  });
  await writer.finish();
  const seconds = (performance.now() - started) / 1000;
  await runtime?.close();
  await Promise.all(models.map((m) => m.close()));
  return {
    seconds,
    elements,
    bytesRead,
    bytesWritten: plan.totalSize,
    outputHash: await hashOutput(config.outDir),
  };
}

/** Every unit's inputs into memory first, then the merges timed one after another, unwritten. */
async function kernelsAlone(
  config: StreamConfig,
  runtime: KernelBackend | undefined,
  units: WorkUnit[],
  models: SafetensorsModel[],
): Promise<StreamResult> {
  const loaded: Loaded[] = [];
  for (const { recipe, piece } of units) {
    const count = piece?.count ?? elementCount(recipe);
    const views = models.map(() => new Uint8Array(new SharedArrayBuffer(count * 2)));
    await Promise.all(
      models.map((model, slot) => model.readTensorInto(recipe.name, views[slot]!, (piece?.offset ?? 0) * 2)),
    );
    loaded.push({ base: views[0]!, models: views.slice(1) });
  }
  const started = performance.now();
  for (const [i, unit] of units.entries()) await compute(config, runtime, unit, loaded[i]!);
  const seconds = (performance.now() - started) / 1000;
  const elements = loaded.reduce((sum, l) => sum + l.base.byteLength / 2, 0);
  return { seconds, elements, bytesRead: 0, bytesWritten: 0, outputHash: "" };
}

/** The wasm backend, warmed up (workers started, kernels compiled) before the clock starts. */
async function startRuntime(config: StreamConfig): Promise<KernelBackend | undefined> {
  if (config.backend !== "wasm") return undefined;
  const runtime = openWasmBackend({ threads: config.threads });
  const tiny = new Uint8Array(4096);
  const loaded = { base: tiny, models: MODEL_PARAMS.map(() => tiny) };
  const recipe = benchRecipe("warm-up", [2048], MODEL_PARAMS.length);
  await compute(config, runtime, { index: 0, recipe, last: true }, loaded);
  return runtime;
}

function benchRecipe(name: string, shape: readonly number[], fineTunes: number): TensorRecipe {
  return {
    name,
    sourceTensorName: name,
    shape: [...shape],
    dtype: "BF16",
    action: "merge",
    base: { model: "bench/base", tensor: name, params: {} },
    inputs: Array.from({ length: fineTunes }, (_, i) => ({
      model: `bench/ft${i + 1}`,
      tensor: name,
      params: modelParams(i),
    })),
    global: {},
  };
}

function modelParams(i: number): ResolvedParams {
  return MODEL_PARAMS[i % MODEL_PARAMS.length]!;
}

async function compute(
  config: StreamConfig,
  runtime: KernelBackend | undefined,
  unit: WorkUnit,
  loaded: Loaded,
): Promise<Uint8Array> {
  if (config.backend === "io") return loaded.base;
  const { recipe, piece } = unit;
  const method = methodRegistry.get(config.method)!;
  if (config.backend === "wasm") {
    const merged = await runtime!.tryMerge({
      recipe,
      method,
      base: { bytes: loaded.base, dtype: "BF16" },
      inputs: loaded.models.map((bytes, i) => ({
        model: `bench/ft${i + 1}`,
        bytes,
        dtype: "BF16",
        params: modelParams(i),
      })),
      global: {},
      seed: SEED,
      dareRescale: "paper",
      tensorName: recipe.name,
      consumeInputs: true, // the read buffers are idle until the result is written, as in the executor
      elements: piece,
    });
    if (!merged) throw new Error(`the wasm backend declined ${recipe.name}`);
    return merged;
  }
  const input = (model: string, bytes: Uint8Array, p: ResolvedParams): MergeInput => ({
    model,
    data: decodeToF32(bytes, "BF16"),
    shape: recipe.shape,
    params: p,
  });
  const merged = method.merge({
    tensorName: recipe.name,
    sourceTensorName: recipe.name,
    shape: recipe.shape,
    base: input("bench/base", loaded.base, {}),
    inputs: loaded.models.map((bytes, i) => input(`bench/ft${i + 1}`, bytes, modelParams(i))),
    global: {},
    seed: SEED,
    dareRescale: "paper",
    warn: () => undefined,
  });
  return encodeFromF32(merged, "BF16");
}

async function hashOutput(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".safetensors")).sort()) {
    const handle = await open(join(dir, file), "r");
    try {
      for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 24 }))
        hash.update(chunk as Buffer);
    } finally {
      await handle.close();
    }
  }
  return hash.digest("hex");
}
