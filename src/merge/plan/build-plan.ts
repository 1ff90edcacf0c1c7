import { HubmergeError } from "../../errors.js";
import { modelKey, type ModelRef } from "../../model-ref.js";
import type { Manifest, ModelEntry, Slice } from "../../manifest/types.js";
import { DTYPE_SIZE } from "../../safetensors/dtype.js";
import { planShards } from "../../safetensors/writer.js";
import { countLayers, layerIndexOf, withLayerIndex } from "../layer-names.js";
import type { LoadedModel } from "../loaded-model.js";
import type { TokenizerPlan } from "../tokenizer/plan-tokenizer.js";
import { reindexRecipes } from "../tokenizer/reindex-recipes.js";
import type { MergeMethod } from "../types.js";
import { floatDTypeFromName, torchDtypeName } from "./dtypes.js";
import { RecipeBuilder, type Participant } from "./recipe-builder.js";
import { stackedConfig, type StackedLayer } from "./stacked-config.js";
import type { MergePlan, TensorRecipe } from "./types.js";

export interface PlanInput {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened, keyed by `modelKey` of its reference. */
  models: ReadonlyMap<string, LoadedModel>;
  maxShardBytes?: number;
  /** The output vocabulary (merge/tokenizer/plan-tokenizer.ts), when the manifest sets one. */
  tokenizer?: TokenizerPlan;
}

/** Decides, for every output tensor, which inputs and parameters make it; reads no weights. */
export function buildPlan(input: PlanInput): MergePlan {
  const { manifest, method } = input;
  const dtypeName = manifest.outDtype ?? manifest.dtype;
  const outDType = dtypeName ? floatDTypeFromName(dtypeName) : undefined;
  const builder = new RecipeBuilder(method, [manifest.parameters], outDType, input.tokenizer !== undefined);
  const modelOf = (ref: ModelRef): LoadedModel => {
    const model = input.models.get(modelKey(ref));
    if (!model) throw new HubmergeError("E_INTERNAL", `model ${ref.raw} was not loaded`);
    return model;
  };
  const built = manifest.slices
    ? planSlices(manifest, manifest.slices, method, builder, modelOf)
    : planModels(manifest, manifest.models ?? [], method, builder, modelOf);
  const { reference, stack } = built;
  const { tokenizer } = input;
  const recipes = tokenizer
    ? reindexRecipes(built.recipes, tokenizer, manifest, input.models)
    : built.recipes;
  const torchDtype = outDType
    ? torchDtypeName(outDType)
    : String(reference.config?.["torch_dtype"] ?? "float32");
  const stacked = reference.config && stack ? stackedConfig(reference.config, stack) : reference.config;
  const config: Record<string, unknown> | undefined = stacked && { ...stacked, torch_dtype: torchDtype };
  if (config && tokenizer) config["vocab_size"] = tokenizer.rows;
  return {
    method,
    referenceModel: reference.ref,
    recipes,
    shards: planShards(
      recipes.map((r) => ({ name: r.name, dtype: r.dtype, shape: r.shape })),
      input.maxShardBytes,
    ),
    config,
    torchDtype,
    warnings: [...(tokenizer?.warnings ?? []), ...builder.warnings],
    ...(tokenizer && { tokenizer }),
    inputBytes: sumInputBytes(recipes, input.models.values()),
  };
}

function planModels(
  manifest: Manifest,
  entries: ModelEntry[],
  method: MergeMethod,
  builder: RecipeBuilder,
  modelOf: (ref: ModelRef) => LoadedModel,
): { recipes: TensorRecipe[]; reference: LoadedModel; stack?: StackedLayer[] } {
  const baseModel = manifest.baseModel && modelOf(manifest.baseModel);
  const participant = (e: ModelEntry): Participant => ({
    model: modelOf(e.ref),
    paramLayers: [e.parameters],
  });
  let base: Participant | undefined;
  let others = entries.map(participant);
  if (method.base !== "none" && baseModel) {
    base = others.find((p) => p.model === baseModel) ?? { model: baseModel, paramLayers: [] };
    others = others.filter((p) => p.model !== baseModel);
  }
  const reference = base ?? others[0];
  if (!reference) throw new HubmergeError("E_MANIFEST", "the manifest names no model to merge");
  warnExtraTensors(reference.model, others, builder.warnings);
  const names = reference.model.tensors.tensorNames();
  const count = countLayers(names, reference.model.config);
  const recipes = names.map((name) => {
    const index = layerIndexOf(name);
    const layer = index === undefined ? undefined : { index, count };
    return builder.build({ name, sourceName: name, layer, base, others });
  });
  return { recipes, reference: baseModel ?? reference.model };
}

function planSlices(
  manifest: Manifest,
  slices: Slice[],
  method: MergeMethod,
  builder: RecipeBuilder,
  modelOf: (ref: ModelRef) => LoadedModel,
): { recipes: TensorRecipe[]; reference: LoadedModel; stack: StackedLayer[] } {
  const baseRef = manifest.baseModel;
  const layerRecipes: TensorRecipe[] = [];
  const stack: StackedLayer[] = [];
  let outIndex = 0;
  const sliceParticipants = slices.map((slice) => splitSlice(slice, method, baseRef, modelOf));
  slices.forEach((slice, s) => {
    const { base, others, starts } = sliceParticipants[s]!;
    const first = base ?? others[0]!;
    const length = slice.sources[0]!.layerRange[1] - slice.sources[0]!.layerRange[0];
    for (let k = 0; k < length; k++) {
      const sourceIndex = starts.get(first)! + k;
      stack.push({ config: first.model.config, index: sourceIndex });
      for (const sourceName of first.model.tensors.tensorNames()) {
        if (layerIndexOf(sourceName) !== sourceIndex) continue;
        layerRecipes.push(
          builder.build({
            name: withLayerIndex(sourceName, outIndex + k),
            sourceName,
            layer: { index: k, count: length },
            base,
            others,
            sourceNameOf: (p) => withLayerIndex(sourceName, starts.get(p)! + k),
          }),
        );
      }
    }
    outIndex += length;
  });
  // Tensors outside the layer stack: embeddings from the first slice, the rest from the last.
  const head = sliceParticipants[0]!;
  const tail = sliceParticipants[sliceParticipants.length - 1]!;
  const pre: TensorRecipe[] = [];
  const post: TensorRecipe[] = [];
  const reference = (head.base ?? head.others[0]!).model;
  for (const name of reference.tensors.tensorNames()) {
    if (layerIndexOf(name) !== undefined) continue;
    const from = isEmbedding(name) ? head : tail;
    (isEmbedding(name) ? pre : post).push(
      builder.build({ name, sourceName: name, layer: undefined, base: from.base, others: from.others }),
    );
  }
  const baseModel = baseRef ? modelOf(baseRef) : reference;
  return { recipes: [...pre, ...layerRecipes, ...post], reference: baseModel, stack };
}

function splitSlice(
  slice: Slice,
  method: MergeMethod,
  baseRef: ModelRef | undefined,
  modelOf: (ref: ModelRef) => LoadedModel,
) {
  const baseModel = baseRef && modelOf(baseRef);
  const starts = new Map<Participant, number>();
  let base: Participant | undefined;
  const others: Participant[] = [];
  for (const source of slice.sources) {
    const p: Participant = { model: modelOf(source.ref), paramLayers: [source.parameters, slice.parameters] };
    starts.set(p, source.layerRange[0]);
    if (method.base !== "none" && p.model === baseModel && !base) base = p;
    else others.push(p);
  }
  if (method.base === "required" && !base) {
    throw new HubmergeError(
      "E_MANIFEST",
      `every slice must include the base model ${baseRef?.raw} for ${method.name}`,
      {
        where: { line: slice.pos.line, column: slice.pos.column },
        hint: "add the base model as a source of this slice, with the same layer_range length",
      },
    );
  }
  return { base, others, starts };
}

function isEmbedding(name: string): boolean {
  return /embed_tokens|wte|wpe|word_embeddings|embeddings\./.test(name);
}

function warnExtraTensors(reference: LoadedModel, others: Participant[], warnings: string[]): void {
  for (const p of others) {
    const extra = p.model.tensors.tensorNames().filter((n) => !reference.tensors.has(n));
    if (extra.length > 0) {
      warnings.push(
        `${p.model.ref} has ${extra.length} tensor(s) that ${reference.ref} lacks (first: ${extra[0]}); they are ignored`,
      );
    }
  }
}

function sumInputBytes(recipes: TensorRecipe[], models: Iterable<LoadedModel>): number {
  const byRef = new Map([...models].map((m) => [m.ref, m]));
  let total = 0;
  for (const r of recipes) {
    for (const input of r.base ? [r.base, ...r.inputs] : r.inputs) {
      const info = byRef.get(input.model)!.tensors.info(input.tensor);
      total += info.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[info.dtype];
    }
  }
  return total;
}
