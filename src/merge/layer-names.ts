/**
 * Transformer checkpoints number their blocks in tensor names: `model.layers.7.mlp…` (llama,
 * mistral, qwen), `transformer.h.7.…` (gpt2), `…blocks.7.…`, `encoder.block.7.…` (t5, whose
 * blocks hold sub-layers `layer.0`, `layer.1`: the leftmost number is the block's). Slices and
 * gradients need that number.
 */
export const LAYER_PATTERN = /(^|\.)(layers|h|blocks|block|layer)\.(\d+)(\.|$)/;

export function layerIndexOf(tensorName: string): number | undefined {
  const match = LAYER_PATTERN.exec(tensorName);
  return match ? Number(match[3]) : undefined;
}

/** The same tensor name with its layer number replaced (for slices that renumber layers). */
export function withLayerIndex(tensorName: string, index: number): string {
  return tensorName.replace(LAYER_PATTERN, (_all, lead: string, word: string, _n, tail: string) => {
    return `${lead}${word}.${index}${tail}`;
  });
}

/**
 * config.json keys that hold the layer count, most common first (mergekit's per-architecture
 * `num_layers_config_key`: `n_layer` for gpt2, gptbigcode, jais and phi-1; `num_hidden_layers`
 * for most others).
 */
export const LAYER_COUNT_KEYS = ["num_hidden_layers", "n_layer", "num_layers", "n_layers"] as const;

/** Number of layers a model has: its config's count, else one more than the largest index. */
export function countLayers(tensorNames: Iterable<string>, config?: Record<string, unknown>): number {
  const key = config && LAYER_COUNT_KEYS.find((k) => config[k] !== undefined);
  const fromConfig = key && config[key];
  if (typeof fromConfig === "number" && Number.isInteger(fromConfig) && fromConfig > 0) return fromConfig;
  let max = -1;
  for (const name of tensorNames) max = Math.max(max, layerIndexOf(name) ?? -1);
  return max + 1;
}
