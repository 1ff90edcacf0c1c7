/**
 * The `models` planner: every tensor of the reference (the base model, else the first listed)
 * within the scope, merged from the same-named tensor of each model, its layer position giving
 * gradients their `t`.
 */
import { HubmergeError } from "../../errors.js";
import type { ModelRef } from "../../model-ref.js";
import type { ModelEntry } from "../../manifest/types.js";
import type { LoadedModel } from "../loaded-model.js";
import type { MergeMethod } from "../types.js";
import type { PlanScope } from "./plan-scope.js";
import type { Participant, RecipeBuilder } from "./recipe-builder.js";
import type { TensorRecipe } from "./types.js";

export interface PlannerContext {
  /** The manifest's path, for errors that point at it. */
  file: string;
  method: MergeMethod;
  baseRef: ModelRef | undefined;
  builder: RecipeBuilder;
  modelOf: (ref: ModelRef) => LoadedModel;
}

export function planModels(
  entries: readonly ModelEntry[],
  scope: PlanScope,
  context: PlannerContext,
): { recipes: TensorRecipe[]; reference: LoadedModel } {
  const { method, builder, modelOf } = context;
  const baseModel = context.baseRef && modelOf(context.baseRef);
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
  warnExtraTensors(reference.model, others, scope, builder.warnings);
  const recipes = scope.tensorsOf(reference.model).map((name) =>
    builder.build({
      name,
      sourceName: name,
      layer: scope.position(reference.model, name),
      base,
      others,
      scopeLayers: scope.paramLayers,
    }),
  );
  return { recipes, reference: baseModel ?? reference.model };
}

function warnExtraTensors(
  reference: LoadedModel,
  others: Participant[],
  scope: PlanScope,
  warnings: string[],
): void {
  for (const p of others) {
    const extra = scope.tensorsOf(p.model).filter((n) => !reference.tensors.has(n));
    if (extra.length > 0) {
      warnings.push(
        `${p.model.ref} has ${extra.length} tensor(s) that ${reference.ref} lacks (first: ${extra[0]}); they are ignored`,
      );
    }
  }
}
