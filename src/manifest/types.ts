/**
 * The typed manifest: a mergekit config plus hubmerge's own `hubmerge:` block, with the source
 * position of every entry so that later stages can point errors at the exact line.
 */
import type { DareRescale } from "../merge/types.js";
import type { ModelRef } from "../model-ref.js";
import type { TokenizerBlock } from "./tokenizer-schema.js";

/**
 * A parameter as a manifest may set it (mergekit's forms):
 * - a scalar;
 * - a gradient: a list of numbers, interpolated piecewise-linearly over the layers;
 * - a list of `{filter, value}`: the first entry whose filter is a substring of the tensor name
 *   wins; an entry without a filter (or `"*"`) is the fallback. A value may itself be a gradient.
 */
export type ScalarSetting = number | boolean | string;
export type GradientSetting = number[];
export interface FilteredSetting {
  filter?: string;
  value: ScalarSetting | GradientSetting;
}
export type ParamSetting = ScalarSetting | GradientSetting | FilteredSetting[];
export type ParamSettings = Readonly<Record<string, ParamSetting>>;

/** 1-based line and column in the manifest file. */
export interface Pos {
  line: number;
  column: number;
}

/** A path into the YAML document: mapping keys and list indices, e.g. `["models", 1, "parameters"]`. */
export type NodePath = readonly (string | number)[];

export interface ModelEntry {
  ref: ModelRef;
  parameters: ParamSettings;
  /** Where the entry (its mapping) starts. */
  pos: Pos;
}

export interface SliceSource {
  ref: ModelRef;
  /** `[start, end)`: end is exclusive, as in mergekit. */
  layerRange: [number, number];
  parameters: ParamSettings;
  pos: Pos;
}

export interface Slice {
  sources: SliceSource[];
  /**
   * The slice's own `base_model`: the base of every tensor the slice makes (and of the tensors
   * before the stack for the first slice, after it for the last), instead of the top-level one.
   */
  baseModel?: ModelRef;
  parameters: ParamSettings;
  pos: Pos;
}

/**
 * One entry of `modules:` (mergekit's `OutputModuleDefinition`): one part of a multi-module
 * model (a VLM's `text_decoder`, `vision_tower`, …) merged on its own.
 */
export interface ModuleSpec {
  /** The module's name as the architecture's table knows it (merge/modules/), e.g. `vision_tower`. */
  name: string;
  /** Exactly one of `models` and `slices` is set. */
  models?: ModelEntry[];
  slices?: Slice[];
  /** The module's `parameters`: below a model's (or slice source's) and a slice's, above the global ones. */
  parameters: ParamSettings;
  /** Where the module's name (its key) is. */
  pos: Pos;
}

export type OutDType = "float32" | "float16" | "bfloat16";

export interface OutputOptions {
  /** `org/name` of the repo the merge is published to. */
  repo: string;
  /** Only used when hubmerge creates the repo. Default false (the Hub's default). */
  private: boolean;
  /** Hub license id for the card, e.g. `apache-2.0`. */
  license?: string;
  /** Publish into an existing repo that hubmerge did not create. Default false. */
  overwrite: boolean;
}

export interface CardOptions {
  title?: string;
  description?: string;
  /** Extra tags besides the ones hubmerge always adds. Default []. */
  tags: string[];
  /** Whether the card embeds the manifest. Default true. */
  includeManifest: boolean;
}

/** The `hubmerge:` block with every default applied. */
export interface HubmergeOptions {
  output?: OutputOptions;
  /** Seed of the random methods (DARE, DELLA); 0 … 2^64−1. Default 42n. */
  seed: bigint;
  /** DARE survivor rescaling: the paper's 1/density (default) or mergekit's L1-norm matching. */
  dareRescale: DareRescale;
  /** Merge even when the compatibility check fails. Default false. */
  allowIncompatible: boolean;
  card: CardOptions;
  /** The Action's fan-out: `auto` (about 20 GB per part) or a part count. Absent: one part. */
  parts?: "auto" | number;
}

export interface TokenizerSettings extends TokenizerBlock {
  /** Which key set it, for messages. */
  key: "tokenizer_source" | "tokenizer";
}

export interface ManifestWarning {
  message: string;
  pos: Pos;
}

export interface Manifest {
  /** The path the manifest was read from (or named as), for messages. */
  file: string;
  /** Absolute folder of the manifest; local model paths are resolved against it. */
  dir: string;
  /** The manifest's text as read. */
  text: string;
  mergeMethod: string;
  baseModel?: ModelRef;
  /** Exactly one of `models`, `slices` and `modules` is set. */
  models?: ModelEntry[];
  slices?: Slice[];
  /** Multi-module merges, in file order. */
  modules?: ModuleSpec[];
  /** Global `parameters` (lowest precedence). */
  parameters: ParamSettings;
  /** mergekit's `dtype`: the dtype the merge is computed in (hubmerge always computes in f32). */
  dtype?: OutDType;
  /** Output dtype; when absent, mergekit uses `dtype`, and then the inputs' dtype. */
  outDtype?: OutDType;
  /** `"base"`, `"union"` or a model reference as written. */
  tokenizerSource?: string;
  /**
   * The tokenizer settings from either `tokenizer_source` or the `tokenizer:` block (mergekit
   * allows one of them); absent when the manifest has neither (the reference's files are copied).
   */
  tokenizer?: TokenizerSettings;
  chatTemplate?: string;
  hubmerge: HubmergeOptions;
  /** Things that do not stop the merge but deserve a look (ignored keys, aliases). */
  warnings: ManifestWarning[];
  /** Position of the value at `path`, or undefined when there is no such node. */
  locate(path: NodePath): Pos | undefined;
  /** Position of the key of the pair at `path` (its last element must be a key). */
  locateKey(path: NodePath): Pos | undefined;
}
