import { describe, expect, it } from "vitest";
import {
  diffLayouts,
  formatLayers,
  type TensorLayout,
  type TensorTable,
} from "../../src/compat/layout-diff.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import type { DType } from "../../src/safetensors/dtype.js";

function llama(
  layers: number,
  options: { hidden?: number; vocab?: number; dtype?: DType } = {},
): Map<string, TensorLayout> {
  const h = options.hidden ?? 8;
  const dtype = options.dtype ?? "BF16";
  const table = new Map<string, TensorLayout>([
    ["model.embed_tokens.weight", { dtype, shape: [options.vocab ?? 16, h] }],
  ]);
  for (let i = 0; i < layers; i++) {
    table.set(`model.layers.${i}.input_layernorm.weight`, { dtype, shape: [h] });
    table.set(`model.layers.${i}.self_attn.q_proj.weight`, { dtype, shape: [h, h] });
    table.set(`model.layers.${i}.mlp.up_proj.weight`, { dtype, shape: [12, h] });
  }
  table.set("lm_head.weight", { dtype, shape: [options.vocab ?? 16, h] });
  return table;
}

function diff(reference: TensorTable, model: TensorTable, method = "ties", slices = false) {
  const count = (t: TensorTable) =>
    new Set([...t.keys()].filter((n) => n.includes("layers.")).map((n) => n.split(".")[2])).size;
  return diffLayouts({
    reference: { name: "base", tensors: reference, layerCount: count(reference) },
    model: { name: "ft", tensors: model, layerCount: count(model), pos: { line: 6, column: 5 } },
    method: methodRegistry.get(method)!,
    slices,
  });
}

describe("diffLayouts", () => {
  it("finds nothing between identical layouts", () => {
    expect(diff(llama(3), llama(3))).toEqual([]);
  });

  it("warns on missing tensors and folds them over layers", () => {
    const model = llama(3);
    for (let i = 0; i < 3; i++) model.delete(`model.layers.${i}.mlp.up_proj.weight`);
    model.delete("lm_head.weight");
    const findings = diff(llama(3), model);
    expect(findings.map((f) => [f.code, f.severity, f.action, f.tensor])).toEqual([
      ["layout.missing", "warning", "skip", "model.layers.*.mlp.up_proj.weight"],
      ["layout.missing", "warning", "skip", "lm_head.weight"],
    ]);
    expect(findings[0]!.message).toMatch(/in 3 layers: 0–2/);
    expect(findings[0]).toMatchObject({ base: "BF16 [12, 8]", value: null, pos: { line: 6, column: 5 } });
  });

  it("reports extra tensors as ignored, whole extra layers as one finding", () => {
    const model = llama(5);
    model.set("score.weight", { dtype: "BF16", shape: [2, 8] });
    const findings = diff(llama(3), model);
    expect(findings.map((f) => [f.code, f.severity, f.action, f.tensor])).toEqual([
      ["layout.extra", "info", "ignore", "model.layers.*"],
      ["layout.extra", "info", "ignore", "score.weight"],
    ]);
    expect(findings[0]!.message).toMatch(/6 tensors in layers 3–4/);
  });

  it("does not compare layers past either stack when slices choose the layers", () => {
    expect(diff(llama(3), llama(5), "passthrough", true)).toEqual([]);
  });

  it("classifies embedding shape differences by what the task family does", () => {
    const larger = diff(llama(2), llama(2, { vocab: 20 }), "dare_ties");
    expect(larger.map((f) => [f.tensor, f.severity, f.action])).toEqual([
      ["model.embed_tokens.weight", "warning", "truncate"],
      ["lm_head.weight", "warning", "truncate"],
    ]);
    expect(larger[0]).toMatchObject({ base: "[16, 8]", value: "[20, 8]" });
    expect(larger[0]!.message).toMatch(/^model\.embed_tokens\.weight is \[20, 8\]/);
    const smaller = diff(llama(2), llama(2, { vocab: 12 }), "dare_ties");
    expect(smaller.map((f) => [f.severity, f.action])).toEqual([
      ["warning", "skip"],
      ["warning", "skip"],
    ]);
  });

  it("blocks on other shape differences: skipped by the task family, an error elsewhere", () => {
    const wide = llama(2, { hidden: 16 });
    const task = diff(llama(2), wide, "ties").filter(
      (f) => !f.tensor?.includes("embed") && !f.tensor?.includes("lm_head"),
    );
    expect(new Set(task.map((f) => `${f.severity}/${f.action}`))).toEqual(new Set(["blocking/skip"]));
    const strict = diff(llama(2), llama(2, { vocab: 20 }), "linear");
    expect(strict.map((f) => [f.severity, f.action])).toEqual([
      ["blocking", "error"],
      ["blocking", "error"],
    ]);
    expect(strict[0]!.message).toMatch(/linear needs identical shapes/);
  });

  it("ignores float dtype differences and blocks on tensors that cannot be decoded", () => {
    const f16 = diff(llama(1), llama(1, { dtype: "F16" }));
    expect(new Set(f16.map((f) => `${f.code}/${f.severity}/${f.action}`))).toEqual(
      new Set(["layout.dtype/info/ignore"]),
    );
    const quantized = llama(1);
    quantized.set("model.layers.0.self_attn.q_proj.weight", { dtype: "I8", shape: [8, 8] });
    expect(diff(llama(1), quantized)).toMatchObject([
      { code: "layout.dtype", severity: "blocking", action: "error", base: "BF16", value: "I8" },
    ]);
  });

  it("sums up the groups past ten per kind in one finding", () => {
    const reference = new Map<string, TensorLayout>();
    const model = new Map<string, TensorLayout>();
    for (let i = 0; i < 14; i++) reference.set(`block_${i}.weight`, { dtype: "F32", shape: [4, 4] });
    for (let i = 0; i < 14; i++) model.set(`block_${i}.weight`, { dtype: "F32", shape: [4, 5] });
    const findings = diff(reference, model);
    expect(findings).toHaveLength(11);
    expect(findings[10]).toMatchObject({ severity: "blocking", tensor: "block_10.weight" });
    expect(findings[10]!.message).toMatch(/4 more tensor/);
  });
});

describe("formatLayers", () => {
  it("compresses runs", () => {
    expect(formatLayers([9, 0, 1, 2, 3, 7, 10])).toBe("0–3, 7, 9–10");
    expect(formatLayers([4])).toBe("4");
  });
});
