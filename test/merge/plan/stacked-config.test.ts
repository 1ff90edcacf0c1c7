import { describe, expect, it } from "vitest";
import { stackedConfig } from "../../../src/merge/plan/stacked-config.js";

const layers = (config: Record<string, unknown>, indices: number[]) =>
  indices.map((index) => ({ config, index }));

describe("stackedConfig", () => {
  it("writes the count under the key the architecture uses (gpt2: n_layer), adding no other", () => {
    const gpt2 = { model_type: "gpt2", n_layer: 12, n_embd: 64 };
    const out = stackedConfig(gpt2, layers(gpt2, [0, 1, 2, 3, 8, 9, 10, 11]));
    expect(out).toEqual({ model_type: "gpt2", n_layer: 8, n_embd: 64 });
    expect(gpt2.n_layer).toBe(12); // the source config is not changed
  });

  it("uses num_hidden_layers for llama-style configs and when no key is present", () => {
    const llama = { num_hidden_layers: 4 };
    expect(stackedConfig(llama, layers(llama, [0, 1, 2, 3, 2, 3]))).toEqual({ num_hidden_layers: 6 });
    expect(stackedConfig({}, layers({}, [0, 1]))).toEqual({ num_hidden_layers: 2 });
  });

  it("takes per-layer lists from each stacked layer's own model", () => {
    const a = { num_hidden_layers: 4, layer_types: ["sliding", "full", "sliding", "full"] };
    const b = { num_hidden_layers: 4, layer_types: ["B0", "B1", "B2", "B3"] };
    const out = stackedConfig(a, [...layers(a, [0, 1]), ...layers(b, [2, 3]), ...layers(a, [3])]);
    expect(out["num_hidden_layers"]).toBe(5);
    expect(out["layer_types"]).toEqual(["sliding", "full", "B2", "B3", "full"]);
  });

  it("leaves lists that are not per-layer alone", () => {
    const c = { num_hidden_layers: 4, layer_types: ["x", "y"], architectures: ["LlamaForCausalLM"] };
    expect(stackedConfig(c, layers(c, [0, 1, 2]))).toEqual({ ...c, num_hidden_layers: 3 });
  });

  it("rewrites the language model's block of a multimodal config", () => {
    const vl = {
      model_type: "qwen2_vl",
      text_config: { num_hidden_layers: 4, layer_types: ["a", "b", "c", "d"] },
    };
    const out = stackedConfig(vl, layers(vl, [1, 3]));
    expect(out).toEqual({
      model_type: "qwen2_vl",
      text_config: { num_hidden_layers: 2, layer_types: ["b", "d"] },
    });
  });
});
