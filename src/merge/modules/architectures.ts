/**
 * Which tensors make up each module of a multi-module ("modular") architecture, as data: the
 * facts mergekit's `modules:` relies on (its modular architecture definitions), written as
 * tensor-name prefixes instead of per-weight tables, since hubmerge plans by name.
 *
 * Real Hub checkpoints come in two namings. Those saved before transformers 4.52 put the language
 * model under `language_model.` (`language_model.model.layers.N…`, `language_model.lm_head…`)
 * or, for Qwen2-VL, at the top (`model.layers.N…`, `visual.…`); later ones nest everything under
 * `model.` (`model.language_model.…`, `model.vision_tower.…`, `model.visual.…`) with `lm_head.`
 * at the top. Each module lists the prefixes of both. A tensor belongs to the module with the
 * longest matching prefix, so `visual.merger.` (the projector) wins over `visual.` (the tower).
 */

/** One module of an architecture. */
export interface ModuleLayout {
  /** mergekit's module name, as a manifest's `modules:` names it. */
  name: string;
  /** Tensor-name prefixes the module claims (`""` claims every name). */
  prefixes: readonly string[];
  /**
   * Dotted config.json paths that hold the module's layer count; the first one present is read,
   * and a layer stack writes every one present (configs that repeat the count keep agreeing).
   * Empty: the module has no layer stack (a projector). Absent: the whole-model keys of
   * layer-names.ts (`num_hidden_layers`, `n_layer`, …), as for any one-module model.
   */
  layerCountKeys?: readonly string[];
  /** Where the model reads its count when none of `layerCountKeys` is set (t5's decoder). */
  layerCountDefault?: string;
}

export interface ModularArchitecture {
  /** config.json `architectures[0]` values it applies to. */
  classes: readonly string[];
  /** In mergekit's order, which a `models:` merge of the whole model follows. */
  modules: readonly ModuleLayout[];
}

/** The one module of every architecture hubmerge cannot split. */
export const DEFAULT_MODULE: ModuleLayout = { name: "default", prefixes: [""] };

const TEXT_COUNT = ["text_config.num_hidden_layers"];
const VISION_COUNT = ["vision_config.num_hidden_layers"];

/** Gemma 3 and Mistral 3: vision tower, projector and language model side by side. */
const TOWER_PROJECTOR_DECODER: readonly ModuleLayout[] = [
  {
    name: "text_decoder",
    prefixes: ["language_model.", "model.language_model.", "lm_head."],
    layerCountKeys: TEXT_COUNT,
  },
  {
    name: "multi_modal_projector",
    prefixes: ["multi_modal_projector.", "model.multi_modal_projector."],
    layerCountKeys: [],
  },
  { name: "vision_tower", prefixes: ["vision_tower.", "model.vision_tower."], layerCountKeys: VISION_COUNT },
];

/**
 * Qwen2-VL and Qwen2.5-VL: the language model at the top (`model.`) or under
 * `model.language_model.`, the vision tower under `visual.`, its merger (the projector) inside it.
 * Older configs hold the text layer count at the top, newer ones in `text_config` (some both).
 */
const QWEN_VL: readonly ModuleLayout[] = [
  {
    name: "text_decoder",
    prefixes: ["model.", "model.language_model.", "lm_head."],
    layerCountKeys: ["text_config.num_hidden_layers", "num_hidden_layers"],
  },
  {
    name: "multi_modal_projector",
    prefixes: ["visual.merger.", "model.visual.merger.", "model.visual.deepstack_merger_list."],
    layerCountKeys: [],
  },
  { name: "vision_tower", prefixes: ["visual.", "model.visual."], layerCountKeys: ["vision_config.depth"] },
];

export const MODULAR_ARCHITECTURES: readonly ModularArchitecture[] = [
  {
    classes: ["Gemma3ForConditionalGeneration", "Mistral3ForConditionalGeneration"],
    modules: TOWER_PROJECTOR_DECODER,
  },
  {
    // transformers keeps Llama 4's parts at the top level; its LM head is `language_model.lm_head.…`.
    classes: ["Llama4ForConditionalGeneration"],
    modules: [
      { name: "text_decoder", prefixes: ["language_model."], layerCountKeys: TEXT_COUNT },
      { name: "multi_modal_projector", prefixes: ["multi_modal_projector."], layerCountKeys: [] },
      { name: "vision_model", prefixes: ["vision_model."], layerCountKeys: VISION_COUNT },
    ],
  },
  {
    classes: [
      "Qwen2VLForConditionalGeneration",
      "Qwen2_5_VLForConditionalGeneration",
      "Qwen3VLForConditionalGeneration",
      "Qwen3VLMoeForConditionalGeneration",
    ],
    modules: QWEN_VL,
  },
  {
    // t5's config names the encoder's count `num_layers`; the decoder's defaults to it.
    classes: ["T5ForConditionalGeneration"],
    modules: [
      {
        name: "decoder",
        prefixes: ["decoder."],
        layerCountKeys: ["num_decoder_layers"],
        layerCountDefault: "num_layers",
      },
      { name: "encoder", prefixes: ["encoder."], layerCountKeys: ["num_layers"] },
      { name: "shared", prefixes: ["shared.", "lm_head."], layerCountKeys: [] },
    ],
  },
  {
    // Whisper's config repeats the encoder's count as `num_hidden_layers`; `proj_out` is its LM head.
    classes: ["WhisperForConditionalGeneration"],
    modules: [
      { name: "decoder", prefixes: ["model.decoder.", "proj_out."], layerCountKeys: ["decoder_layers"] },
      {
        name: "encoder",
        prefixes: ["model.encoder."],
        layerCountKeys: ["encoder_layers", "num_hidden_layers"],
      },
    ],
  },
];
