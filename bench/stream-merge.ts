/**
 * The benchmark's merge loop: the executor's streaming pattern (read the next tensor's inputs while
 * the current one is merged, write tensors in order through ShardedWriter), with the compute step
 * swapped per configuration, and one step further: tensor i is written while tensor i+1 merges. The "io" configuration does no math at all: it writes the base's
 * bytes, so its time is the floor every other configuration is measured against.
 */
import { createHash } from "node:crypto";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createKernelRuntime, type KernelRuntime } from "../src/merge/fast-path.js";
import { methodRegistry } from "../src/merge/methods/registry.js";
import type { TensorRecipe } from "../src/merge/plan/types.js";
import type { MergeInput, ResolvedParams } from "../src/merge/types.js";
import { decodeToF32, encodeFromF32 } from "../src/safetensors/dtype.js";
import { SafetensorsModel } from "../src/safetensors/reader.js";
import { ShardedWriter, planShards } from "../src/safetensors/writer.js";
import { LocalSource } from "../src/source/local-source.js";

export type Backend = "io" | "reference" | "wasm";

export interface StreamConfig {
  backend: Backend;
  method: string;
  threads: number;
  /** Folders: the base first, then the fine-tunes. */
  models: string[];
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
  const read = (i: number): Promise<Loaded> | undefined =>
    names[i] === undefined
      ? undefined
      : Promise.all([base, ...fineTunes].map((m) => m.readTensorBytes(names[i]!))).then(([b, ...rest]) => ({
          base: b!,
          models: rest,
        }));
  let elements = 0;
  let bytesRead = 0;
  const started = performance.now();
  let next = read(0);
  let writing: Promise<void> = Promise.resolve();
  for (let i = 0; i < names.length; i++) {
    const loaded = await next!;
    next = read(i + 1);
    next?.catch(() => undefined);
    const name = names[i]!;
    const shape = base.info(name).shape;
    const bytes = await compute(config, runtime, name, shape, loaded);
    // Tensor i is written while tensor i+1 merges (the fast path's output stays valid that long).
    await writing;
    writing = writer.writeTensor(name, bytes);
    writing.catch(() => undefined);
    elements += loaded.base.byteLength / 2;
    bytesRead += loaded.base.byteLength + loaded.models.reduce((sum, m) => sum + m.byteLength, 0);
  }
  await writing;
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

/** The wasm runtime, warmed up (workers started, kernels compiled) before the clock starts. */
async function startRuntime(config: StreamConfig): Promise<KernelRuntime | undefined> {
  if (config.backend !== "wasm") return undefined;
  const runtime = createKernelRuntime({ backend: "wasm", threads: config.threads });
  const tiny = new Uint8Array(4096);
  const loaded = { base: tiny, models: MODEL_PARAMS.map(() => tiny) };
  await compute(config, runtime, "warm-up", [2048], loaded);
  return runtime;
}

async function compute(
  config: StreamConfig,
  runtime: KernelRuntime | undefined,
  name: string,
  shape: readonly number[],
  loaded: Loaded,
): Promise<Uint8Array> {
  if (config.backend === "io") return loaded.base;
  const method = methodRegistry.get(config.method)!;
  const params = (i: number) => MODEL_PARAMS[i % MODEL_PARAMS.length]!;
  if (config.backend === "wasm") {
    const recipe: TensorRecipe = {
      name,
      sourceTensorName: name,
      shape: [...shape],
      dtype: "BF16",
      action: "merge",
      base: { model: "bench/base", tensor: name, params: {} },
      inputs: loaded.models.map((_, i) => ({ model: `bench/ft${i + 1}`, tensor: name, params: params(i) })),
      global: {},
    };
    const merged = await runtime!.tryMerge({
      recipe,
      method,
      base: { bytes: loaded.base, dtype: "BF16" },
      inputs: loaded.models.map((bytes, i) => ({
        model: `bench/ft${i + 1}`,
        bytes,
        dtype: "BF16",
        params: params(i),
      })),
      global: {},
      seed: SEED,
      dareRescale: "paper",
      tensorName: name,
      consumeInputs: true, // fresh read buffers, as the executor's
    });
    if (!merged) throw new Error(`the wasm backend declined ${name}`);
    return merged;
  }
  const input = (model: string, bytes: Uint8Array, p: ResolvedParams): MergeInput => ({
    model,
    data: decodeToF32(bytes, "BF16"),
    shape,
    params: p,
  });
  const merged = method.merge({
    tensorName: name,
    sourceTensorName: name,
    shape,
    base: input("bench/base", loaded.base, {}),
    inputs: loaded.models.map((bytes, i) => input(`bench/ft${i + 1}`, bytes, params(i))),
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
