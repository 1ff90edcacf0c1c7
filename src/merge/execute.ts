import { HubmergeError } from "../errors.js";
import {
  decodeToF32,
  encodeFromF32,
  isFloatDType,
  type DType,
  type FloatDType,
} from "../safetensors/dtype.js";
import { ShardedWriter } from "../safetensors/writer.js";
import type { MergeEventListener } from "./events.js";
import { openKernels, type BackendName, type Kernels } from "./kernels/select-backend.js";
import type { LoadedModel } from "./loaded-model.js";
import type { MergePlan, PlannedInput, TensorRecipe } from "./plan/types.js";
import type { DareRescale, MergeInput } from "./types.js";

export interface ExecuteInput {
  plan: MergePlan;
  models: ReadonlyMap<string, LoadedModel>;
  /** Folder the shards are written into (the staging folder of the output). */
  dir: string;
  seed: bigint;
  dareRescale: DareRescale;
  metadata?: Record<string, string>;
  /** Kernel backend (default auto: the GPU where one helps, else WebAssembly SIMD). */
  backend?: BackendName;
  threads?: number;
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
}

/** One input tensor as read: raw bytes, decoded to f32 only if the reference must run. */
interface RawInput {
  model: string;
  bytes: Uint8Array;
  dtype: DType;
  shape: readonly number[];
  params: MergeInput["params"];
}

interface LoadedInputs {
  base: RawInput | undefined;
  inputs: RawInput[];
  raw?: Uint8Array;
}

/**
 * Streams the plan: reads each output tensor's inputs, merges them, writes the result, one tensor
 * at a time. The next tensor's reads overlap the current merge, so memory stays at a few tensors.
 */
export async function executePlan(
  input: ExecuteInput,
): Promise<{ files: string[]; warnings: string[]; kernels: string }> {
  const { plan, onEvent } = input;
  const kernels = await openKernels(input.backend, input.threads);
  const writer = new ShardedWriter({ dir: input.dir, plan: plan.shards, metadata: input.metadata });
  const byRef = new Map([...input.models.values()].map((m) => [m.ref, m]));
  const warnings = new Set<string>();
  const warn = (message: string) => {
    if (warnings.has(message)) return;
    warnings.add(message);
    onEvent?.({ type: "warning", message });
  };
  try {
    let next = loadInputs(plan.recipes[0], byRef);
    for (let i = 0; i < plan.recipes.length; i++) {
      input.signal?.throwIfAborted();
      const recipe = plan.recipes[i]!;
      const loaded = await next;
      next = loadInputs(plan.recipes[i + 1], byRef);
      next.catch(() => undefined); // surfaced when awaited; never an unhandled rejection meanwhile
      const bytes = await mergeOne(recipe, loaded, input, kernels, byRef, warn);
      await writer.writeTensor(recipe.name, bytes);
      onEvent?.({
        type: "tensor",
        index: i + 1,
        total: plan.recipes.length,
        name: recipe.name,
        outputBytes: bytes.byteLength,
      });
    }
    const { files } = await writer.finish();
    return { files, warnings: [...warnings], kernels: kernels.label };
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await kernels.close();
  }
}

async function loadInputs(
  recipe: TensorRecipe | undefined,
  models: ReadonlyMap<string, LoadedModel>,
): Promise<LoadedInputs | undefined> {
  if (!recipe) return undefined;
  const read = async (p: PlannedInput): Promise<RawInput> => {
    const model = models.get(p.model)!;
    const { dtype, shape } = model.tensors.info(p.tensor);
    const bytes = await model.tensors.readTensorBytes(p.tensor);
    return { model: streamIdentity(model), bytes, dtype, shape, params: p.params };
  };
  if (recipe.action === "copy") {
    const only = recipe.inputs[0]!;
    const raw = await models.get(only.model)!.tensors.readTensorBytes(only.tensor);
    return { base: undefined, inputs: [], raw };
  }
  const [base, ...inputs] = await Promise.all([
    recipe.base ? read(recipe.base) : undefined,
    ...recipe.inputs.map(read),
  ]);
  return { base, inputs: inputs as RawInput[] };
}

async function mergeOne(
  recipe: TensorRecipe,
  loaded: LoadedInputs | undefined,
  input: ExecuteInput,
  kernels: Kernels,
  byRef: ReadonlyMap<string, LoadedModel>,
  warn: (message: string) => void,
): Promise<Uint8Array> {
  if (!loaded) throw new HubmergeError("E_INTERNAL", `inputs of ${recipe.name} were not read`);
  if (recipe.action === "copy") return convertCopy(recipe, loaded.raw!, byRef);
  const fast = await kernels.tryMerge({
    recipe,
    method: input.plan.method,
    base: loaded.base,
    inputs: loaded.inputs,
    global: recipe.global,
    seed: input.seed,
    dareRescale: input.dareRescale,
    tensorName: recipe.name,
  });
  if (fast) return fast;
  const decode = (raw: RawInput): MergeInput => ({ ...raw, data: decodeToF32(raw.bytes, raw.dtype) });
  const merged = input.plan.method.merge({
    tensorName: recipe.name,
    sourceTensorName: recipe.sourceTensorName,
    shape: recipe.shape,
    base: loaded.base && decode(loaded.base),
    inputs: loaded.inputs.map(decode),
    global: recipe.global,
    seed: input.seed,
    dareRescale: input.dareRescale,
    warn: (message) => warn(`${recipe.name}: ${message}`),
  });
  const expected = recipe.shape.reduce((a, b) => a * b, 1);
  if (merged.length !== expected) {
    throw new HubmergeError(
      "E_INTERNAL",
      `${input.plan.method.name} returned ${merged.length} values, expected ${expected}`,
      {
        where: { tensor: recipe.name },
      },
    );
  }
  return encodeFromF32(merged, recipe.dtype as FloatDType);
}

/**
 * The model's part of the DARE stream (docs/rng.md): the reference as written, less any
 * `@revision`, so that pinning a source in the manifest keeps the same masks.
 */
export function streamIdentity(model: LoadedModel): string {
  return model.source.repo !== undefined ? model.ref.replace(/@[^/]*$/, "") : model.ref;
}

/** A copied tensor keeps its bytes, converted only when the output dtype differs. */
function convertCopy(
  recipe: TensorRecipe,
  raw: Uint8Array,
  models: ReadonlyMap<string, LoadedModel>,
): Uint8Array {
  const only = recipe.inputs[0]!;
  const sourceDType = models.get(only.model)!.tensors.info(only.tensor).dtype;
  if (sourceDType === recipe.dtype || !isFloatDType(recipe.dtype)) return raw;
  return encodeFromF32(decodeToF32(raw, sourceDType), recipe.dtype);
}
