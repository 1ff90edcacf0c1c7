import { HubmergeError } from "../../errors.js";
import { modelKey, type ModelRef } from "../../model-ref.js";
import type { Manifest } from "../../manifest/types.js";
import { DTYPE_SIZE } from "../../safetensors/dtype.js";
import { withVocabSize } from "../config-vocab.js";
import { planShards } from "../../safetensors/shard-plan.js";
import type { LoadedModel } from "../loaded-model.js";
import { ModuleSplits, wholeModelScope } from "../modules/module-scope.js";
import { planModules } from "../modules/plan-modules.js";
import { modulesOf } from "../modules/split-modules.js";
import type { TokenizerPlan } from "../tokenizer/plan-tokenizer.js";
import { reindexRecipes } from "../tokenizer/reindex-recipes.js";
import type { MergeMethod } from "../types.js";
import { floatDTypeFromName, torchDtypeName } from "./dtypes.js";
import { planModels, type PlannerContext } from "./plan-models.js";
import { planSlices } from "./plan-slices.js";
import { RecipeBuilder } from "./recipe-builder.js";
import { stackedConfig, type StackedLayer, type StackedModule } from "./stacked-config.js";
import type { MergePlan, ModulePlan, TensorRecipe } from "./types.js";

export interface PlanInput {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened, keyed by `modelKey` of its reference. */
  models: ReadonlyMap<string, LoadedModel>;
  maxShardBytes?: number;
  /** The output vocabulary (merge/tokenizer/plan-tokenizer.ts), when the manifest sets one. */
  tokenizer?: TokenizerPlan;
}

interface Built {
  recipes: TensorRecipe[];
  reference: LoadedModel;
  stacks: { stack: StackedLayer[]; of?: StackedModule }[];
  modules?: ModulePlan[];
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
  const context: PlannerContext = {
    file: manifest.file,
    method,
    baseRef: manifest.baseModel,
    builder,
    modelOf,
  };
  const built = planInputs(manifest, context);
  const { reference } = built;
  const { tokenizer } = input;
  const recipes = tokenizer
    ? reindexRecipes(built.recipes, tokenizer, manifest, input.models)
    : built.recipes;
  const torchDtype = outDType
    ? torchDtypeName(outDType)
    : String(reference.config?.["torch_dtype"] ?? "float32");
  let stacked = reference.config;
  for (const { stack, of } of built.stacks) stacked = stacked && stackedConfig(stacked, stack, of);
  const typed = stacked && { ...stacked, torch_dtype: torchDtype };
  const config = typed && tokenizer ? withVocabSize(typed, tokenizer.rows) : typed;
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
    ...(built.modules && { modules: built.modules }),
  };
}

/** The top-level `models`, `slices` or `modules`, planned. */
function planInputs(manifest: Manifest, context: PlannerContext): Built {
  if (manifest.modules) return planModules(manifest, manifest.modules, context);
  const first = manifest.baseModel ?? manifest.models?.[0]?.ref ?? manifest.slices?.[0]?.sources[0]?.ref;
  if (!first) throw new HubmergeError("E_MANIFEST", "the manifest names no model to merge");
  const splits = new ModuleSplits(modulesOf(context.modelOf(first).config));
  const scope = wholeModelScope(splits);
  if (!manifest.slices) {
    return { ...planModels(manifest.models ?? [], scope, context), stacks: [] };
  }
  if (splits.split.modular) refuseWholeModelSlices(manifest, splits.split.architecture);
  const { recipes, reference, stack } = planSlices(manifest.slices, scope, context);
  return { recipes, reference, stacks: [{ stack }] };
}

/** mergekit's rule too: a layer number means nothing until it says which module's layers. */
function refuseWholeModelSlices(manifest: Manifest, architecture: string): never {
  throw new HubmergeError(
    "E_MANIFEST",
    `${architecture} has several modules (a language model, a vision tower, …), so top-level \`slices\` cannot say whose layers they take`,
    {
      where: { file: manifest.file, ...(manifest.locateKey(["slices"]) ?? { line: 1, column: 1 }) },
      hint: "Move the slices under the module they stack, e.g. `modules: {text_decoder: {slices: [...]}, vision_tower: {models: [...]}, …}` (docs/modules.md).",
    },
  );
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
