/** The manifest stage: YAML text → typed, position-aware, method-checked `Manifest`. */
export type {
  CardOptions,
  HubmergeOptions,
  Manifest,
  ManifestWarning,
  ModelEntry,
  NodePath,
  OutDType,
  OutputOptions,
  Pos,
  Slice,
  SliceSource,
} from "./types.js";
export type { ModelRef } from "./model-ref.js";
export { formatModelRef, parseModelRef, repoIdProblem, sameModelRef } from "./model-ref.js";
export { loadManifest, MAX_MANIFEST_BYTES, parseManifest } from "./parse.js";
export type { MethodLookup } from "./validate.js";
export { validateManifest } from "./validate.js";
export { DTYPE_NAMES, parseDType } from "./dtype.js";
export { parseSeed } from "./seed.js";
export { DEFAULT_SEED } from "./schema.js";
export { closestMatch } from "./suggest.js";
