import { HubmergeError } from "../errors.js";
import {
  DTYPE_SIZE,
  decodeToF32,
  encodeFromF32,
  isFloatDType,
  type DType,
  type FloatDType,
} from "../safetensors/dtype.js";
import { ShardedWriter, type ShardedWriterOptions, type WrittenShard } from "../safetensors/writer.js";
import type { MergeEventListener } from "./events.js";
import { openKernels, type BackendName, type KernelBackend } from "./kernels/index.js";
import type { LoadedModel } from "./loaded-model.js";
import type { MergePlan, PlannedInput, TensorRecipe } from "./plan/types.js";
import { ReadBuffers, type BufferSet } from "./read-buffers.js";
import { runTensorPipeline } from "./tensor-pipeline.js";
import { reindexRows } from "./tokenizer/reindex-rows.js";
import type { DareRescale, MergeInput } from "./types.js";
import { inputSpan, plannedInputs, UnitReads } from "./unit-reads.js";
import { elementCount, workUnits, type WorkUnit } from "./work-units.js";

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
  /** Elements per piece of a large elementwise tensor (default: the kernels'; tests use small ones). */
  pieceElements?: number;
  /** Bytes that reads from Hub sources may fetch ahead of the merge (default 1 GiB). */
  readAheadBytes?: number;
  /** Sees the run's reads once planned (tests check the read-ahead budget). */
  onReads?: (reads: UnitReads) => void;
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
  /**
   * Where merged tensors go instead of shard files in `dir` (verify hashes them in memory). It
   * receives the plan's recipes in order, so a plan of a few recipes merges just those.
   */
  sink?: TensorSink;
  /** Merge and write only these shards of the plan (one part of a split merge); no index then. */
  shards?: ReadonlySet<number>;
  /** Each shard as soon as it is complete (see ShardedWriterOptions.onShardClosed). */
  onShardClosed?: ShardedWriterOptions["onShardClosed"];
}

/** What the executor writes to: the sharded writer, or anything that takes tensors the same way. */
export type TensorSink = Pick<ShardedWriter, "writeTensor" | "writeTensorPart" | "finish" | "abort">;

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
 * Streams the plan: reads each output tensor's inputs, merges them, writes the result, unit by unit
 * (a tensor, or a piece of a large elementwise one: work-units.ts) in a pipeline
 * (tensor-pipeline.ts): the next unit's reads and the previous unit's write overlap the current
 * merge. Reads go into reused buffers (read-buffers.ts), so memory stays at two units' inputs,
 * whatever the model's size.
 */
export async function executePlan(
  input: ExecuteInput,
): Promise<{ files: string[]; shards: WrittenShard[]; warnings: string[]; kernels: string }> {
  const { plan, onEvent } = input;
  const kernels = await openKernels(input.backend, input.threads);
  const writer =
    input.sink ??
    new ShardedWriter({
      dir: input.dir,
      plan: plan.shards,
      metadata: input.metadata,
      only: input.shards,
      onShardClosed: input.onShardClosed,
    });
  const byRef = new Map([...input.models.values()].map((m) => [m.ref, m]));
  const buffers = new ReadBuffers();
  const recipes = selectedRecipes(plan, input.shards);
  const units = workUnits(
    recipes,
    // A re-indexed embedding is read whole: its output rows gather rows from all over the input.
    (recipe) => recipe.rows === undefined && kernels.canMergePieces(pieceQuery(recipe, input, byRef)),
    input.pieceElements ?? kernels.pieceElements,
  );
  const reads = new UnitReads(units, byRef, input.readAheadBytes);
  input.onReads?.(reads);
  let readBytes = 0;
  const readUnit = async (i: number, set: BufferSet) => {
    const loaded = await loadInputs(
      units[i]!,
      byRef,
      (slot, bytes) => buffers.lease(set, slot, bytes),
      (slot, target, direct) => reads.readInto(i, slot, target, direct),
    );
    readBytes += reads.unitBytes[i]!;
    onEvent?.({ type: "read", bytes: readBytes, total: reads.totalBytes });
    return loaded;
  };
  const warnings = new Set<string>();
  const warn = (message: string) => {
    if (warnings.has(message)) return;
    warnings.add(message);
    onEvent?.({ type: "warning", message });
  };
  try {
    reads.start();
    await runTensorPipeline({
      count: units.length,
      signal: input.signal,
      read: readUnit,
      merge: (i, loaded) => mergeUnit(units[i]!, loaded, input, kernels, byRef, warn),
      write: async (i, bytes) => {
        const { recipe, piece, last, index } = units[i]!;
        if (piece) await writer.writeTensorPart(recipe.name, piece.offset * outputSize(recipe), bytes);
        else await writer.writeTensor(recipe.name, bytes);
        if (!last) return;
        onEvent?.({
          type: "tensor",
          index: index + 1,
          total: recipes.length,
          name: recipe.name,
          outputBytes: elementCount(recipe) * outputSize(recipe),
        });
      },
    });
    const { files, shards } = await writer.finish();
    return { files, shards, warnings: [...warnings], kernels: kernels.label };
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await reads.close();
    await kernels.close();
  }
}

/** The recipes of the selected shards, in plan order (all of them without a selection). */
function selectedRecipes(plan: MergePlan, shards: ReadonlySet<number> | undefined): TensorRecipe[] {
  if (shards === undefined) return plan.recipes;
  const names = new Set(
    plan.shards.files.flatMap((shard, i) => (shards.has(i) ? shard.tensors.map((t) => t.name) : [])),
  );
  return plan.recipes.filter((recipe) => names.has(recipe.name));
}

function outputSize(recipe: TensorRecipe): number {
  return DTYPE_SIZE[recipe.dtype];
}

/** What the kernels need to decide whether they take `recipe` in pieces (nothing read yet). */
function pieceQuery(recipe: TensorRecipe, input: ExecuteInput, models: ReadonlyMap<string, LoadedModel>) {
  const meta = (p: PlannedInput) => {
    const model = models.get(p.model)!;
    const { dtype, shape } = model.tensors.info(p.tensor);
    return { model: streamIdentity(model), dtype, shape, params: p.params };
  };
  return {
    recipe,
    method: input.plan.method,
    base: recipe.base && meta(recipe.base),
    inputs: recipe.inputs.map(meta),
    global: recipe.global,
    seed: input.seed,
    dareRescale: input.dareRescale,
    tensorName: recipe.name,
  };
}

/** Reads a unit's inputs (the whole tensors, or the piece's elements of each) into leased buffers. */
async function loadInputs(
  unit: WorkUnit,
  models: ReadonlyMap<string, LoadedModel>,
  lease: (slot: number, bytes: number) => Uint8Array,
  readInto: (slot: number, target: Uint8Array, direct: () => Promise<void>) => Promise<void>,
): Promise<LoadedInputs> {
  const { recipe } = unit;
  const read = async (p: PlannedInput, slot: number): Promise<RawInput> => {
    const model = models.get(p.model)!;
    const info = model.tensors.info(p.tensor);
    const span = inputSpan(unit, model, p.tensor);
    const bytes = lease(slot, span.bytes);
    await readInto(slot, bytes, () => model.tensors.readTensorInto(p.tensor, bytes, span.byteOffset));
    return { model: streamIdentity(model), bytes, dtype: info.dtype, shape: info.shape, params: p.params };
  };
  const raw = await Promise.all(plannedInputs(recipe).map(read));
  if (recipe.rows) {
    const shape = recipe.shape;
    const moved = reindexRows(recipe.rows, raw, (i, bytes) => lease(raw.length + i, bytes));
    moved.forEach((bytes, i) => (raw[i] = { ...raw[i]!, bytes, shape }));
  }
  if (recipe.action === "copy") return { base: undefined, inputs: [], raw: raw[0]!.bytes };
  return recipe.base ? { base: raw[0], inputs: raw.slice(1) } : { base: undefined, inputs: raw };
}

/** A unit on the kernels where they take it; otherwise (whole tensors only) on the reference. */
async function mergeUnit(
  unit: WorkUnit,
  loaded: LoadedInputs,
  input: ExecuteInput,
  kernels: KernelBackend,
  byRef: ReadonlyMap<string, LoadedModel>,
  warn: (message: string) => void,
): Promise<Uint8Array> {
  const { recipe, piece } = unit;
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
    consumeInputs: true, // the read buffers are this run's own, and idle until the result is written
    elements: piece,
  });
  if (fast) return fast;
  if (piece) {
    throw new HubmergeError(
      "E_INTERNAL",
      `the kernels declined a piece of ${recipe.name} they had accepted`,
      {
        where: { tensor: recipe.name },
        hint: "Retry with --backend reference, and report this as a bug.",
      },
    );
  }
  return referenceMerge(recipe, loaded, input, warn);
}

function referenceMerge(
  recipe: TensorRecipe,
  loaded: LoadedInputs,
  input: ExecuteInput,
  warn: (message: string) => void,
): Uint8Array {
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
  const expected = elementCount(recipe);
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
  // `model+adapter`: each half without its revision (a local half never has an `@`).
  if (model.adapter) return model.ref.replace(/@[^/+]*(?=\+|$)/g, "");
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
