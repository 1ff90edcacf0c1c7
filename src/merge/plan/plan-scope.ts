/**
 * What one run of the `models` or `slices` planner covers: the whole model, or one module of a
 * multi-module model (merge/modules/). The planners ask it which tensors to plan, where each sits
 * in a layer stack, and which parameters lie between a slice's and the global ones.
 */
import type { ParamSettings } from "../../manifest/types.js";
import type { LoadedModel } from "../loaded-model.js";
import type { LayerPosition } from "../types.js";
import type { StackedModule } from "./stacked-config.js";

export interface PlanScope {
  /** The tensor names of `model` this plan covers, in the model's order. */
  tensorsOf(model: LoadedModel): string[];
  /** The tensor's layer index in the scope's stack; undefined outside it. */
  layerIndex(name: string): number | undefined;
  /** The tensor's place in `model`'s stack (or its module's), for gradients of a `models` merge. */
  position(model: LoadedModel, name: string): LayerPosition | undefined;
  /** The scope's layer count in `model`. */
  layerCount(model: LoadedModel): number;
  /** Parameters between a slice's and the global ones (a module's), highest first. */
  paramLayers: ParamSettings[];
  /** The module planned, with the others of its architecture; undefined for the whole model. */
  module?: StackedModule;
}
