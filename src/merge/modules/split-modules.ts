/**
 * A model's modules: its architecture's table (architectures.ts), chosen by config.json's
 * `architectures[0]`, and which of its tensors each module holds. Every tensor belongs to exactly
 * one module; one that no module claims is an error, never silently dropped or merged.
 */
import { HubmergeError } from "../../errors.js";
import { listWords } from "../../manifest/suggest.js";
import { DEFAULT_MODULE, MODULAR_ARCHITECTURES, type ModuleLayout } from "./architectures.js";

export interface ModelModules {
  /** config.json's `architectures[0]`, or a description when it has none. */
  architecture: string;
  /** False for the one-module `default` split of any other architecture. */
  modular: boolean;
  modules: readonly ModuleLayout[];
}

/** The modules of a model with this config.json. */
export function modulesOf(config: Record<string, unknown> | undefined): ModelModules {
  const classes = config?.["architectures"];
  const first = Array.isArray(classes) && typeof classes[0] === "string" ? classes[0] : undefined;
  const known =
    first === undefined ? undefined : MODULAR_ARCHITECTURES.find((a) => a.classes.includes(first));
  if (known) return { architecture: first!, modular: true, modules: known.modules };
  return {
    architecture: first ?? "a model without `architectures` in its config.json",
    modular: false,
    modules: [DEFAULT_MODULE],
  };
}

/** The module whose longest prefix matches the tensor's name. */
export function moduleOfTensor(name: string, modules: readonly ModuleLayout[]): ModuleLayout | undefined {
  let best: { module: ModuleLayout; length: number } | undefined;
  for (const module of modules) {
    for (const prefix of module.prefixes) {
      if (name.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
        best = { module, length: prefix.length };
      }
    }
  }
  return best?.module;
}

/** Each module's tensor names (in the model's order); throws on a tensor no module claims. */
export function splitTensors(
  names: Iterable<string>,
  split: ModelModules,
  model: string,
): Map<string, string[]> {
  const byModule = new Map<string, string[]>(split.modules.map((m) => [m.name, []]));
  for (const name of names) {
    const module = moduleOfTensor(name, split.modules);
    if (module === undefined) {
      const prefixes = split.modules.flatMap((m) => m.prefixes.map((p) => `\`${p}\` (${m.name})`));
      throw new HubmergeError(
        "E_INCOMPATIBLE",
        `tensor ${name} belongs to none of ${split.architecture}'s modules ${listWords(split.modules.map((m) => m.name))}`,
        {
          where: { model, tensor: name },
          hint: `hubmerge assigns a tensor to a module by its name's prefix: ${prefixes.join(", ")}; check that the model is a ${split.architecture} checkpoint, or merge it with \`models:\` instead of \`modules:\``,
        },
      );
    }
    byModule.get(module.name)!.push(name);
  }
  return byModule;
}
