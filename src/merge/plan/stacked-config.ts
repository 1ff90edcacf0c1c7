/**
 * config.json for a layer stack (slices): the layer count and the per-layer lists follow the
 * stacked layers, under the keys the architecture uses. mergekit sets its architecture's
 * `num_layers_config_key` (gpt2 and its kin say `n_layer`, most say `num_hidden_layers`); a
 * config that names its count under one key must not gain a second, disagreeing one.
 */
import { LAYER_COUNT_KEYS } from "../layer-names.js";

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

/** A copy of `config` with the layer count and per-layer lists rewritten for `stack`. */
export function stackedConfig(config: Config, stack: readonly StackedLayer[]): Config {
  const out = structuredClone(config);
  const block = layerBlock(out);
  const countKey = LAYER_COUNT_KEYS.find((key) => typeof block.config[key] === "number");
  const sourceCount = countKey === undefined ? undefined : (block.config[countKey] as number);
  block.config[countKey ?? LAYER_COUNT_KEYS[0]] = stack.length;
  for (const key of PER_LAYER_LIST_KEYS) {
    const list = block.config[key];
    if (!Array.isArray(list) || list.length !== sourceCount) continue;
    block.config[key] = stack.map(({ config: source, index }) => {
      const own = source && layerBlock(source).config[key];
      return structuredClone(Array.isArray(own) && index < own.length ? own[index] : list[index]);
    });
  }
  return out;
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
