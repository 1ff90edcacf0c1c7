/**
 * A module's layer stack: how many layers it has in a model, and where its config says so.
 * A module without a layer stack (a projector) has none, and its tensors are all outside one,
 * whatever their names look like.
 */
import { countLayers, layerIndexOf } from "../layer-names.js";
import type { ModuleLayout } from "./architectures.js";
import { readCount } from "./config-path.js";

type Config = Record<string, unknown>;

/** Whether the module stacks layers (`default` does, as any one-module model). */
export function hasLayerStack(module: ModuleLayout): boolean {
  return module.layerCountKeys === undefined || module.layerCountKeys.length > 0;
}

/** The tensor's layer index within the module, or undefined outside its layer stack. */
export function moduleLayerIndex(module: ModuleLayout, name: string): number | undefined {
  return hasLayerStack(module) ? layerIndexOf(name) : undefined;
}

/**
 * The module's layer count in a model: its config's count (the first key present, else the key
 * it defaults to), else one more than the largest layer index among `names` (its tensors).
 */
export function moduleLayerCount(module: ModuleLayout, config: Config | undefined, names: string[]): number {
  if (module.layerCountKeys === undefined) return countLayers(names, config);
  if (module.layerCountKeys.length === 0) return 0;
  const keys = [...module.layerCountKeys, ...(module.layerCountDefault ? [module.layerCountDefault] : [])];
  for (const key of keys) {
    const count = readCount(config, key);
    if (count !== undefined && count > 0) return count;
  }
  let max = -1;
  for (const name of names) max = Math.max(max, layerIndexOf(name) ?? -1);
  return max + 1;
}
