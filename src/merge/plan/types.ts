import type { DType } from "../../safetensors/dtype.js";
import type { ShardPlan } from "../../safetensors/shard-plan.js";
import type { TokenizerPlan } from "../tokenizer/plan-tokenizer.js";
import type { RowPlan } from "../tokenizer/row-plan.js";
import type { MergeMethod, ResolvedParams } from "../types.js";

/** One tensor of one source model, with the parameters resolved for it. */
export interface PlannedInput {
  /** Model reference as written in the manifest. */
  model: string;
  /** The tensor's name inside that model. */
  tensor: string;
  params: ResolvedParams;
}

/** How one output tensor is made. */
export interface TensorRecipe {
  /** Output tensor name. */
  name: string;
  /** The name in the source models (differs for slices, which renumber layers). */
  sourceTensorName: string;
  shape: number[];
  /** Output dtype. */
  dtype: DType;
  /** `copy` takes `inputs[0]` unchanged (non-float tensors, or nothing to merge). */
  action: "merge" | "copy";
  base: PlannedInput | undefined;
  inputs: PlannedInput[];
  global: ResolvedParams;
  /** Set when the tokenizer settings re-index this embedding's rows (merge/tokenizer/). */
  rows?: RowPlan;
}

/** One module of a `modules:` merge, as `plan` and the card show it. */
export interface ModulePlan {
  name: string;
  /** Whether the module merges whole models or stacks slices. */
  input: "models" | "slices";
  /** The models as written, or each slice source with its layer range. */
  sources: string[];
  /** Layers of the module in the output (0 for a module without a layer stack). */
  layers: number;
  tensors: number;
  /** One line: `text_decoder: models ./a, ./b → 28 layers, 339 tensors`. */
  text: string;
}

export interface MergePlan {
  method: MergeMethod;
  /** The model whose config, tokenizer and tensor list the output follows. */
  referenceModel: string;
  recipes: TensorRecipe[];
  shards: ShardPlan;
  /** Output config.json (torch_dtype and, for slices, num_hidden_layers updated). */
  config: Record<string, unknown> | undefined;
  /** Output dtype name for config.json (`bfloat16`, `float16`, `float32`). */
  torchDtype: string;
  warnings: string[];
  /** The output vocabulary, when the manifest has tokenizer settings. */
  tokenizer?: TokenizerPlan;
  /** Bytes that execution will read from the sources. */
  inputBytes: number;
  /** The modules merged, in manifest order, when the manifest has `modules:`. */
  modules?: ModulePlan[];
}
