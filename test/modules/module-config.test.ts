import { describe, expect, it } from "vitest";
import { modulesOf } from "../../src/merge/modules/split-modules.js";
import { stackedConfig } from "../../src/merge/plan/stacked-config.js";

type Config = Record<string, unknown>;

const layers = (config: Config, indices: number[]) => indices.map((index) => ({ config, index }));

function moduleOf(config: Config, name: string) {
  const { modules } = modulesOf(config);
  return { layout: modules.find((m) => m.name === name)!, siblings: modules };
}

describe("stackedConfig for one module", () => {
  it("writes text_config.num_hidden_layers (dotted), rebuilds its layer_types, leaves the vision count", () => {
    const a: Config = {
      architectures: ["Gemma3ForConditionalGeneration"],
      text_config: { num_hidden_layers: 3, layer_types: ["s", "f", "s"] },
      vision_config: { num_hidden_layers: 4 },
    };
    const b: Config = { ...a, text_config: { num_hidden_layers: 3, layer_types: ["B0", "B1", "B2"] } };
    const out = stackedConfig(a, [...layers(a, [0, 1]), ...layers(b, [1, 2])], moduleOf(a, "text_decoder"));
    expect(out["text_config"]).toEqual({ num_hidden_layers: 4, layer_types: ["s", "f", "B1", "B2"] });
    expect(out["vision_config"]).toEqual({ num_hidden_layers: 4 });
    expect(out["num_hidden_layers"]).toBeUndefined();
    expect((a["text_config"] as Config)["num_hidden_layers"]).toBe(3); // the source is not changed
  });

  it("writes every key a config repeats the count under (Qwen2-VL: top level and text_config)", () => {
    const both: Config = {
      architectures: ["Qwen2VLForConditionalGeneration"],
      num_hidden_layers: 2,
      text_config: { num_hidden_layers: 2 },
      vision_config: { depth: 3 },
    };
    const out = stackedConfig(both, layers(both, [0, 1, 1, 1, 0]), moduleOf(both, "text_decoder"));
    expect(out).toMatchObject({ num_hidden_layers: 5, text_config: { num_hidden_layers: 5 } });
    const old: Config = { architectures: ["Qwen2VLForConditionalGeneration"], num_hidden_layers: 2 };
    expect(stackedConfig(old, layers(old, [0]), moduleOf(old, "text_decoder"))).toEqual({
      ...old,
      num_hidden_layers: 1,
    });
  });

  it("stacks a vision tower under vision_config.depth", () => {
    const qwen: Config = {
      architectures: ["Qwen2VLForConditionalGeneration"],
      num_hidden_layers: 2,
      vision_config: { depth: 3, embed_dim: 6 },
    };
    const out = stackedConfig(qwen, layers(qwen, [0, 1, 2, 2]), moduleOf(qwen, "vision_tower"));
    expect(out).toEqual({ ...qwen, vision_config: { depth: 4, embed_dim: 6 } });
  });

  it("t5: stacking the encoder pins the decoder's count, which defaulted to the encoder's", () => {
    const t5: Config = { architectures: ["T5ForConditionalGeneration"], num_layers: 6 };
    const out = stackedConfig(t5, layers(t5, [0, 1, 2]), moduleOf(t5, "encoder"));
    expect(out).toEqual({ ...t5, num_layers: 3, num_decoder_layers: 6 });
    const decoder = stackedConfig(t5, layers(t5, [0, 1]), moduleOf(t5, "decoder"));
    expect(decoder).toEqual({ ...t5, num_decoder_layers: 2 });
  });

  it("`default` keeps the whole-model behaviour (gpt2's n_layer)", () => {
    const gpt2: Config = { architectures: ["GPT2LMHeadModel"], n_layer: 12 };
    expect(stackedConfig(gpt2, layers(gpt2, [0, 1]), moduleOf(gpt2, "default"))).toEqual({
      ...gpt2,
      n_layer: 2,
    });
  });
});
