/**
 * mergekit's `modules:` (its `plan_module`): each module named in the manifest is planned on its
 * own with the `models` or `slices` planner, restricted to the module's tensors, with the
 * module's `parameters` between a slice's and the global ones. The output holds the modules in
 * manifest order; a stacked module's layers are numbered from 0 within it, and its layer count is
 * written under the module's own config key.
 */
import type { Manifest, ModuleSpec } from "../../manifest/types.js";
import type { ModelRef } from "../../model-ref.js";
import type { LoadedModel } from "../loaded-model.js";
import { planModels, type PlannerContext } from "../plan/plan-models.js";
import { planSlices } from "../plan/plan-slices.js";
import type { StackedLayer, StackedModule } from "../plan/stacked-config.js";
import type { ModulePlan, TensorRecipe } from "../plan/types.js";
import { checkAllListed, layoutsOf } from "./check-modules.js";
import { moduleScope, ModuleSplits } from "./module-scope.js";
import { modulesOf, splitTensors } from "./split-modules.js";

export interface PlannedModules {
  recipes: TensorRecipe[];
  /** The model whose config the output follows: the base model, else the first one named. */
  reference: LoadedModel;
  /** Each stacked module's layers, for config.json. */
  stacks: { stack: StackedLayer[]; of: StackedModule }[];
  modules: ModulePlan[];
}

export function planModules(
  manifest: Manifest,
  modules: readonly ModuleSpec[],
  context: PlannerContext,
): PlannedModules {
  const { modelOf } = context;
  const reference = modelOf(context.baseRef ?? firstRef(modules[0]!));
  const splits = new ModuleSplits(modulesOf(reference.config));
  const layouts = layoutsOf(manifest, modules, splits);
  for (const ref of modelsOf(modules, context.baseRef)) {
    const model = modelOf(ref);
    splitTensors(model.tensors.tensorNames(), splits.split, model.ref);
  }
  checkAllListed(manifest, modules, reference, splits, (context.baseRef ?? firstRef(modules[0]!)).raw);
  const planned: PlannedModules = { recipes: [], reference, stacks: [], modules: [] };
  modules.forEach((spec, i) => {
    const scope = moduleScope(layouts[i]!, splits, spec.parameters);
    if (spec.slices) {
      const built = planSlices(spec.slices, scope, context);
      planned.recipes.push(...built.recipes);
      planned.stacks.push({ stack: built.stack, of: scope.module! });
      planned.modules.push(summary(spec, built.stack.length, built.recipes.length));
    } else {
      const built = planModels(spec.models ?? [], scope, context);
      planned.recipes.push(...built.recipes);
      // The output module's tensors, and so its layers, are those of the module's reference.
      const from = context.method.base !== "none" && context.baseRef ? context.baseRef : firstRef(spec);
      const layers = scope.layerCount(modelOf(from));
      planned.modules.push(summary(spec, layers, built.recipes.length));
    }
  });
  return planned;
}

/** The first model a module names. */
function firstRef(spec: ModuleSpec): ModelRef {
  return spec.models?.[0]?.ref ?? spec.slices![0]!.sources[0]!.ref;
}

function modelsOf(modules: readonly ModuleSpec[], base: ModelRef | undefined): ModelRef[] {
  const refs = base ? [base] : [];
  for (const spec of modules) {
    spec.models?.forEach((m) => refs.push(m.ref));
    spec.slices?.forEach((s) => s.sources.forEach((src) => refs.push(src.ref)));
  }
  return refs;
}

function summary(spec: ModuleSpec, layers: number, tensors: number): ModulePlan {
  const input = spec.slices ? "slices" : "models";
  const sources = spec.slices
    ? spec.slices.flatMap((slice) =>
        slice.sources.map((s) => `${s.ref.raw} [${s.layerRange[0]}, ${s.layerRange[1]})`),
      )
    : (spec.models ?? []).map((m) => m.ref.raw);
  const count = `${layers} layer${layers === 1 ? "" : "s"}`;
  const text = `${spec.name}: ${input} ${sources.join(", ")} → ${count}, ${tensors} tensors`;
  return { name: spec.name, input, sources, layers, tensors, text };
}
