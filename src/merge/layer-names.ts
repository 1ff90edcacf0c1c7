/**
 * Transformer checkpoints number their blocks in tensor names: `model.layers.7.mlp…` (llama,
 * mistral, qwen), `transformer.h.7.…` (gpt2), `…blocks.7.…`. Slices and gradients need that number.
 */
export const LAYER_PATTERN = /(^|\.)(layers|h|blocks|layer)\.(\d+)(\.|$)/;

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

/** Number of layers a model has: its config's count, else one more than the largest index. */
export function countLayers(tensorNames: Iterable<string>, config?: Record<string, unknown>): number {
  const fromConfig = config?.["num_hidden_layers"] ?? config?.["n_layer"] ?? config?.["num_layers"];
  if (typeof fromConfig === "number" && Number.isInteger(fromConfig) && fromConfig > 0) return fromConfig;
  let max = -1;
  for (const name of tensorNames) max = Math.max(max, layerIndexOf(name) ?? -1);
  return max + 1;
}
