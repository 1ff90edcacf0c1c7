import { describe, expect, it } from "vitest";
import { checkSliceRanges, diffConfigs, type ConfigDiffInput } from "../../src/compat/config-diff.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";

const LLAMA_2 = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  torch_dtype: "float16",
  _name_or_path: "meta-llama/Llama-2-7b-hf",
  transformers_version: "4.31.0",
};

function diff(
  config: Record<string, unknown>,
  method = "dare_ties",
  extra: Partial<ConfigDiffInput["model"]> = {},
) {
  return diffConfigs({
    reference: { name: "meta-llama/Llama-2-7b-hf", config: LLAMA_2 },
    model: { name: "org/ft", config, pos: { line: 4, column: 5 }, slices: [], ...extra },
    method: methodRegistry.get(method)!,
  });
}

describe("diffConfigs", () => {
  it("finds nothing between a base and its fine-tune (save metadata aside)", () => {
    expect(diff({ ...LLAMA_2, _name_or_path: "org/ft", transformers_version: "4.40.0" })).toEqual([]);
  });

  it("flags a LLaMA-1 style config against Llama-2: positions and epsilon warn", () => {
    const llama1 = { ...LLAMA_2, max_position_embeddings: 2048, rms_norm_eps: 1e-6 };
    const findings = diff(llama1);
    expect(findings.map((f) => [f.code, f.severity, f.base, f.value])).toEqual([
      ["config.max_position_embeddings", "warning", 4096, 2048],
      ["config.rms_norm_eps", "warning", 1e-5, 1e-6],
    ]);
    for (const f of findings) {
      expect(f.pos).toEqual({ line: 4, column: 5 });
      expect(f.fix).toMatch(/LLaMA-1|Llama-2/);
    }
  });

  it.each([
    ["hidden_size", 5120],
    ["num_hidden_layers", 40],
    ["num_attention_heads", 40],
    ["num_key_value_heads", 8],
    ["intermediate_size", 14336],
    ["model_type", "mistral"],
    ["architectures", ["MistralForCausalLM"]],
  ])("blocks on %s", (key, value) => {
    const findings = diff({ ...LLAMA_2, [key]: value }).filter((f) => f.field === key);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: "blocking",
      code: `config.${key}`,
      value,
      model: "org/ft",
    });
    expect(findings[0]!.fix).not.toBe("");
  });

  it("derives head_dim and num_key_value_heads the way transformers does", () => {
    const withDerived = { ...LLAMA_2, head_dim: 128 };
    expect(diff(withDerived)).toEqual([]);
    const other = diff({ ...LLAMA_2, head_dim: 64 });
    expect(other.map((f) => [f.code, f.severity])).toEqual([["config.head_dim", "blocking"]]);
    const { num_key_value_heads: _kv, ...noKv } = LLAMA_2;
    expect(diff(noKv)).toEqual([]);
  });

  it("reads GPT-2 style aliases as the usual keys", () => {
    const { hidden_size: _h, num_hidden_layers: _l, ...rest } = LLAMA_2;
    expect(diff({ ...rest, n_embd: 4096, n_layer: 32 })).toEqual([]);
    expect(diff({ ...rest, n_embd: 2048, n_layer: 32 }).map((f) => f.code)).toContain("config.hidden_size");
  });

  it("warns on the warning keys and informs on the rest", () => {
    const findings = diff({
      ...LLAMA_2,
      rope_scaling: { type: "linear", factor: 2 },
      torch_dtype: "bfloat16",
      hidden_act: "gelu",
    });
    expect(findings.map((f) => [f.field, f.severity])).toEqual([
      ["torch_dtype", "warning"],
      ["rope_scaling", "warning"],
      ["hidden_act", "info"],
    ]);
  });

  it("downgrades a key set in one config only", () => {
    const findings = diff({ ...LLAMA_2, sliding_window: 4096, intermediate_size: undefined });
    expect(findings.find((f) => f.field === "intermediate_size")).toMatchObject({ severity: "warning" });
    expect(findings.find((f) => f.field === "sliding_window")).toMatchObject({ severity: "info" });
    const rope = diff({ ...LLAMA_2, rope_scaling: null }, "ties");
    expect(rope).toEqual([]);
  });

  it("says what the method does with another vocabulary size", () => {
    const larger = diff({ ...LLAMA_2, vocab_size: 32002 }, "ties")[0]!;
    expect(larger).toMatchObject({
      severity: "warning",
      code: "config.vocab_size",
      base: 32000,
      value: 32002,
    });
    expect(larger.message).toMatch(
      /cuts embed_tokens and lm_head to the base's 32000 rows, dropping the 2 tokens/,
    );
    const smaller = diff({ ...LLAMA_2, vocab_size: 31000 }, "dare_linear")[0]!;
    expect(smaller.message).toMatch(/leaves it out of embed_tokens and lm_head/);
    const strict = diff({ ...LLAMA_2, vocab_size: 32002 }, "linear")[0]!;
    expect(strict.message).toMatch(
      /linear needs identical shapes, so the merge fails on the embedding tensors/,
    );
  });

  it("lets slices take layers from models of other depths", () => {
    const sliced = diff({ ...LLAMA_2, num_hidden_layers: 40 }, "passthrough", {
      slices: [{ range: [0, 16], pos: { line: 7, column: 9 } }],
    });
    expect(sliced.map((f) => [f.code, f.severity])).toEqual([["config.num_hidden_layers", "info"]]);
  });

  it("reports a model without config.json as information", () => {
    const findings = diffConfigs({
      reference: { name: "base", config: LLAMA_2 },
      model: { name: "ft", config: undefined, slices: [] },
      method: methodRegistry.get("ties")!,
    });
    expect(findings).toMatchObject([{ severity: "info", code: "config.missing" }]);
  });
});

describe("checkSliceRanges", () => {
  it("blocks a layer_range past the end of the model, at the slice's line", () => {
    const findings = checkSliceRanges({
      name: "./small",
      layerCount: 3,
      slices: [
        { range: [0, 3], pos: { line: 4, column: 7 } },
        { range: [2, 5], pos: { line: 9, column: 7 } },
      ],
    });
    expect(findings).toEqual([
      expect.objectContaining({
        severity: "blocking",
        code: "slices.layer_range",
        base: 3,
        value: [2, 5],
        pos: { line: 9, column: 7 },
      }),
    ]);
  });
});
