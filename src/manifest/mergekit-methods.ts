/**
 * The merge methods mergekit registers (arcee-ai/mergekit, `merge_methods/registry.py` and the
 * `@merge_method` modules, mid-2026), so that a config using one hubmerge lacks gets a clear
 * "not supported yet" instead of "unknown". `average` is only an example in mergekit's
 * docstrings, never registered, so it is not listed.
 */
export const MERGEKIT_METHODS: readonly string[] = [
  "linear",
  "slerp",
  "nuslerp",
  "multislerp",
  "karcher",
  "passthrough",
  "model_stock",
  "arcee_fusion",
  "nearswap",
  "task_arithmetic",
  "ties",
  "dare_ties",
  "dare_linear",
  "breadcrumbs",
  "breadcrumbs_ties",
  "della",
  "della_linear",
  "sce",
  "ram",
  "ramplus_tl",
];

/** mergekit's page describing every method. */
export const MERGEKIT_METHODS_DOC = "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md";
