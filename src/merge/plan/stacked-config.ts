/**
 * config.json for a layer stack (slices): the layer count and the per-layer lists follow the
 * stacked layers, under the keys the architecture uses. mergekit sets its architecture's
 * `num_layers_config_key` (gpt2 and its kin say `n_layer`, most say `num_hidden_layers`); a
 * config that names its count under one key must not gain a second, disagreeing one. A module of
 * a multi-module model names its own, possibly nested, keys (`text_config.num_hidden_layers`,
 * `vision_config.depth`; merge/modules/architectures.ts).
 */
import { LAYER_COUNT_KEYS } from "../layer-names.js";
import type { ModuleLayout } from "../modules/architectures.js";
import { parentOf, readCount, writePath } from "../modules/config-path.js";

/** Lists with one entry per layer (attention kind, RoPE use, per-block settings). */
const PER_LAYER_LIST_KEYS = ["layer_types", "no_rope_layers", "block_configs"] as const;

/** Configs of multimodal models keep the language model's settings in a nested block. */
const NESTED_CONFIG_KEYS = ["text_config", "language_config", "llm_config"] as const;

type Config = Record<string, unknown>;

/** One output layer: the config of the model it comes from, and its index there. */
export interface StackedLayer {
  config: Config | undefined;
  index: number;
}

/** The module a stack belongs to, and the other modules of its architecture. */
export interface StackedModule {
  layout: ModuleLayout;
  siblings: readonly ModuleLayout[];
}

/**
 * A copy of `config` with the layer count and per-layer lists rewritten for `stack`; with `of`,
 * those of that module (whose count keys name them), else those of the whole model.
 */
export function stackedConfig(config: Config, stack: readonly StackedLayer[], of?: StackedModule): Config {
  const keys = of?.layout.layerCountKeys;
  if (of !== undefined && keys !== undefined && keys.length > 0)
    return stackedModuleConfig(config, stack, of);
  const out = structuredClone(config);
  const block = layerBlock(out);
  const countKey = LAYER_COUNT_KEYS.find((key) => typeof block.config[key] === "number");
  const sourceCount = countKey === undefined ? undefined : (block.config[countKey] as number);
  block.config[countKey ?? LAYER_COUNT_KEYS[0]] = stack.length;
  rebuildLists(block.config, (source) => layerBlock(source).config, stack, sourceCount);
  return out;
}

/** `stackedConfig` for one module of a multi-module model. */
function stackedModuleConfig(config: Config, stack: readonly StackedLayer[], of: StackedModule): Config {
  const out = structuredClone(config);
  const { layout: module, siblings } = of;
  const keys = module.layerCountKeys!;
  const present = keys.filter((key) => readCount(out, key) !== undefined);
  const written = present.length > 0 ? present : [keys[0]!];
  const sourceCount = readCount(out, written[0]!) ?? readCount(out, module.layerCountDefault ?? "");
  // A sibling whose count defaults to a key rewritten here (t5's decoder) keeps its own count.
  for (const sibling of siblings) {
    const fallback = sibling.layerCountDefault;
    const own = sibling.layerCountKeys ?? [];
    if (sibling === module || fallback === undefined || !written.includes(fallback) || own.length === 0)
      continue;
    const old = readCount(out, fallback);
    if (old !== undefined && own.every((key) => readCount(out, key) === undefined))
      writePath(out, own[0]!, old);
  }
  for (const key of written) writePath(out, key, stack.length);
  const blockOf = (source: Config): Config | undefined => parentOf(source, written[0]!)?.holder;
  rebuildLists(blockOf(out)!, blockOf, stack, sourceCount);
  return out;
}

/** Per-layer lists of `block` that had one entry per source layer, taken from each layer's model. */
function rebuildLists(
  block: Config,
  blockOf: (source: Config) => Config | undefined,
  stack: readonly StackedLayer[],
  sourceCount: number | undefined,
): void {
  for (const key of PER_LAYER_LIST_KEYS) {
    const list = block[key];
    if (!Array.isArray(list) || list.length !== sourceCount) continue;
    block[key] = stack.map(({ config: source, index }) => {
      const own = source && blockOf(source)?.[key];
      return structuredClone(Array.isArray(own) && index < own.length ? own[index] : list[index]);
    });
  }
}

/** The object that holds the layer count: the config itself or its language-model block. */
function layerBlock(config: Config): { config: Config } {
  const holdsCount = (c: Config) => LAYER_COUNT_KEYS.some((key) => typeof c[key] === "number");
  if (holdsCount(config)) return { config };
  for (const key of NESTED_CONFIG_KEYS) {
    const nested = config[key];
    if (nested && typeof nested === "object" && !Array.isArray(nested) && holdsCount(nested as Config)) {
      return { config: nested as Config };
    }
  }
  return { config };
}
