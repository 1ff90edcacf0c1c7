/**
 * Plan scopes (merge/plan/plan-scope.ts) for a model split into modules: one module's tensors
 * with its own layer stack and `parameters`, or the whole model, whose layers are counted per
 * module as mergekit counts them (a vision tower's blocks against the tower's depth, not against
 * the language model's layer count).
 */
import type { ParamSettings } from "../../manifest/types.js";
import type { LoadedModel } from "../loaded-model.js";
import type { PlanScope } from "../plan/plan-scope.js";
import type { ModuleLayout } from "./architectures.js";
import { moduleLayerCount, moduleLayerIndex } from "./module-layers.js";
import { moduleOfTensor, type ModelModules } from "./split-modules.js";

/** Each model's tensors and layer counts per module, computed once. */
export class ModuleSplits {
  private readonly names = new Map<LoadedModel, Map<string, string[]>>();
  private readonly counts = new Map<LoadedModel, Map<string, number>>();

  constructor(readonly split: ModelModules) {}

  /** The module's tensors of `model`, in its order. */
  namesOf(model: LoadedModel, module: ModuleLayout): string[] {
    let byModule = this.names.get(model);
    if (byModule === undefined) {
      byModule = new Map(this.split.modules.map((m) => [m.name, []]));
      for (const name of model.tensors.tensorNames()) {
        const owner = moduleOfTensor(name, this.split.modules);
        if (owner !== undefined) byModule.get(owner.name)!.push(name);
      }
      this.names.set(model, byModule);
    }
    return byModule.get(module.name) ?? [];
  }

  countOf(model: LoadedModel, module: ModuleLayout): number {
    let byModule = this.counts.get(model);
    if (byModule === undefined) this.counts.set(model, (byModule = new Map()));
    let count = byModule.get(module.name);
    if (count === undefined) {
      count = moduleLayerCount(module, model.config, this.namesOf(model, module));
      byModule.set(module.name, count);
    }
    return count;
  }
}

/** One module: its tensors, its layer stack, its `parameters`. */
export function moduleScope(module: ModuleLayout, splits: ModuleSplits, params: ParamSettings): PlanScope {
  return {
    tensorsOf: (model) => splits.namesOf(model, module),
    layerIndex: (name) => moduleLayerIndex(module, name),
    position(model, name) {
      const index = moduleLayerIndex(module, name);
      return index === undefined ? undefined : { index, count: splits.countOf(model, module) };
    },
    layerCount: (model) => splits.countOf(model, module),
    paramLayers: [params],
    module: { layout: module, siblings: splits.split.modules },
  };
}

/** The whole model, each tensor's layer counted within its module. */
export function wholeModelScope(splits: ModuleSplits): PlanScope {
  const [only] = splits.split.modules;
  const moduleOf = (name: string): ModuleLayout =>
    splits.split.modular ? (moduleOfTensor(name, splits.split.modules) ?? only!) : only!;
  return {
    tensorsOf: (model) => model.tensors.tensorNames(),
    layerIndex: (name) => moduleLayerIndex(moduleOf(name), name),
    position(model, name) {
      const module = moduleOf(name);
      const index = moduleLayerIndex(module, name);
      return index === undefined ? undefined : { index, count: splits.countOf(model, module) };
    },
    layerCount: (model) => splits.countOf(model, only!),
    paramLayers: [],
  };
}
