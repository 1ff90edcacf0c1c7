import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import { layerIndexOf, withLayerIndex } from "../../src/merge/layer-names.js";
import { moduleLayerCount } from "../../src/merge/modules/module-layers.js";
import { moduleOfTensor, modulesOf, splitTensors } from "../../src/merge/modules/split-modules.js";
import { vlmConfig, vlmTensors, type VlmLayout } from "../support/vlm-models.js";

const split = (layout: VlmLayout) => {
  const spec = { layout, textLayers: 2, visionLayers: 3 };
  const byModule = splitTensors(
    vlmTensors(spec).map((t) => t.name),
    modulesOf(vlmConfig(spec)),
    "m",
  );
  return Object.fromEntries([...byModule].map(([name, names]) => [name, names]));
};

describe("modulesOf / splitTensors", () => {
  it("splits a Qwen2-VL checkpoint in the old naming: visual.merger. is the projector, visual. the tower", () => {
    const modules = split("qwen2vl");
    expect(Object.keys(modules)).toEqual(["text_decoder", "multi_modal_projector", "vision_tower"]);
    expect(modules["multi_modal_projector"]).toEqual([
      "visual.merger.ln_q.weight",
      "visual.merger.mlp.0.weight",
      "visual.merger.mlp.2.weight",
    ]);
    expect(modules["vision_tower"]).toHaveLength(1 + 3 * 3);
    expect(modules["text_decoder"]).toContain("lm_head.weight");
    expect(modules["text_decoder"]).toContain("model.layers.1.mlp.up_proj.weight");
  });

  it("splits the same model in transformers' current naming (model.language_model., model.visual.)", () => {
    const modules = split("qwen2vl-new");
    expect(modules["multi_modal_projector"]).toEqual([
      "model.visual.merger.ln_q.weight",
      "model.visual.merger.mlp.0.weight",
      "model.visual.merger.mlp.2.weight",
    ]);
    expect(modules["vision_tower"]!.every((n) => n.startsWith("model.visual."))).toBe(true);
    expect(modules["text_decoder"]!.every((n) => /^(model\.language_model\.|lm_head\.)/.test(n))).toBe(true);
  });

  it("splits a Gemma 3 style checkpoint (language_model.model.…, vision_tower.vision_model.…)", () => {
    const modules = split("gemma3");
    expect(modules["multi_modal_projector"]).toEqual([
      "multi_modal_projector.mm_input_projection_weight",
      "multi_modal_projector.mm_soft_emb_norm.weight",
    ]);
    expect(modules["text_decoder"]).toContain("language_model.lm_head.weight");
    expect(modules["vision_tower"]).toContain("vision_tower.vision_model.post_layernorm.weight");
  });

  it("gives any other architecture one module, `default`, that holds every tensor", () => {
    const llama = modulesOf({ architectures: ["LlamaForCausalLM"] });
    expect(llama).toMatchObject({ architecture: "LlamaForCausalLM", modular: false });
    expect(llama.modules.map((m) => m.name)).toEqual(["default"]);
    expect(moduleOfTensor("anything.at.all", llama.modules)?.name).toBe("default");
    expect(modulesOf(undefined).modules.map((m) => m.name)).toEqual(["default"]);
  });

  it("knows mergekit's other modular architectures by their config class", () => {
    const names = (cls: string) => modulesOf({ architectures: [cls] }).modules.map((m) => m.name);
    expect(names("Llama4ForConditionalGeneration")).toEqual([
      "text_decoder",
      "multi_modal_projector",
      "vision_model",
    ]);
    expect(names("Mistral3ForConditionalGeneration")).toEqual([
      "text_decoder",
      "multi_modal_projector",
      "vision_tower",
    ]);
    expect(names("Qwen3VLForConditionalGeneration")).toEqual([
      "text_decoder",
      "multi_modal_projector",
      "vision_tower",
    ]);
    expect(names("T5ForConditionalGeneration")).toEqual(["decoder", "encoder", "shared"]);
    expect(names("WhisperForConditionalGeneration")).toEqual(["decoder", "encoder"]);
    const qwen3 = modulesOf({ architectures: ["Qwen3VLMoeForConditionalGeneration"] }).modules;
    expect(moduleOfTensor("model.visual.deepstack_merger_list.1.norm.weight", qwen3)?.name).toBe(
      "multi_modal_projector",
    );
  });

  it("refuses a tensor no module claims, naming the tensor and the modules", () => {
    const spec = {
      layout: "gemma3" as const,
      textLayers: 1,
      visionLayers: 1,
      extraTensors: ["audio_tower.w"],
    };
    let caught: unknown;
    try {
      splitTensors(
        vlmTensors(spec).map((t) => t.name),
        modulesOf(vlmConfig(spec)),
        "org/vlm",
      );
    } catch (error) {
      caught = error;
    }
    expect(isHubmergeError(caught)).toBe(true);
    if (!isHubmergeError(caught)) return;
    expect(caught.code).toBe("E_INCOMPATIBLE");
    expect(caught.where).toMatchObject({ model: "org/vlm", tensor: "audio_tower.w" });
    expect(caught.message).toMatch(
      /audio_tower\.w belongs to none of Gemma3ForConditionalGeneration's modules `text_decoder`, `multi_modal_projector` or `vision_tower`/,
    );
  });
});

describe("module layer stacks", () => {
  it("reads each module's count from its own (dotted) config key", () => {
    const modules = modulesOf(vlmConfig({ layout: "gemma3", textLayers: 5, visionLayers: 7 })).modules;
    const config = vlmConfig({ layout: "gemma3", textLayers: 5, visionLayers: 7 });
    expect(modules.map((m) => moduleLayerCount(m, config, []))).toEqual([5, 0, 7]);
    const qwen = vlmConfig({ layout: "qwen2vl", textLayers: 4, visionLayers: 6 });
    expect(modulesOf(qwen).modules.map((m) => moduleLayerCount(m, qwen, []))).toEqual([4, 0, 6]);
  });

  it("t5: the decoder's count defaults to num_layers; block.N is the layer, not its sub-layer layer.N", () => {
    const t5 = modulesOf({ architectures: ["T5ForConditionalGeneration"] }).modules;
    expect(moduleLayerCount(t5[0]!, { num_layers: 6 }, [])).toBe(6);
    expect(moduleLayerCount(t5[0]!, { num_layers: 6, num_decoder_layers: 3 }, [])).toBe(3);
    expect(layerIndexOf("decoder.block.4.layer.1.EncDecAttention.q.weight")).toBe(4);
    expect(withLayerIndex("encoder.block.4.layer.1.DenseReluDense.wi.weight", 0)).toBe(
      "encoder.block.0.layer.1.DenseReluDense.wi.weight",
    );
  });
});
