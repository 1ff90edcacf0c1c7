import { describe, expect, it } from "vitest";
import { diffConfigs } from "../../src/compat/config-diff.js";
import { diffLayouts, type TensorLayout } from "../../src/compat/layout-diff.js";

const linear = { name: "linear", shapePolicy: "strict" as const };
const table = (rows: number): Map<string, TensorLayout> =>
  new Map([
    ["model.embed_tokens.weight", { dtype: "BF16", shape: [rows, 32] }],
    ["lm_head.weight", { dtype: "BF16", shape: [rows, 32] }],
  ]);
const layouts = (tokenizer?: string) =>
  diffLayouts({
    reference: { name: "base", tensors: table(64), layerCount: 0 },
    model: { name: "chat", tensors: table(66), layerCount: 0 },
    method: linear,
    slices: false,
    ...(tokenizer !== undefined && { tokenizer }),
  });
const configs = (tokenizer?: string) =>
  diffConfigs({
    reference: { name: "base", config: { vocab_size: 64 } },
    model: { name: "chat", config: { vocab_size: 66 }, slices: [] },
    method: linear,
    ...(tokenizer !== undefined && { tokenizer }),
  });

describe("vocabularies that differ by added tokens", () => {
  it("without tokenizer settings: blocking for a strict method, and the fix names tokenizer_source: union", () => {
    const findings = layouts();
    expect(findings.every((f) => f.severity === "blocking")).toBe(true);
    expect(findings[0]!.fix).toMatch(/tokenizer_source: union/);
    expect(configs()[0]!.fix).toMatch(/tokenizer_source: union/);
  });

  it("with tokenizer settings: information that they reconcile it", () => {
    const findings = layouts("tokenizer_source");
    expect(findings.map((f) => f.severity)).toEqual(["info", "info"]);
    expect(findings[0]!.message).toMatch(/`tokenizer_source` re-indexes it to the output vocabulary/);
    const config = configs("tokenizer:");
    expect(config[0]).toMatchObject({ severity: "info", code: "config.vocab_size" });
    expect(config[0]!.message).toMatch(/`tokenizer:` re-indexes the embeddings/);
  });

  it("a hidden-size difference in an embedding still blocks", () => {
    const findings = diffLayouts({
      reference: { name: "base", tensors: table(64), layerCount: 0 },
      model: {
        name: "other",
        tensors: new Map([["model.embed_tokens.weight", { dtype: "BF16", shape: [64, 48] }]]),
        layerCount: 0,
      },
      method: linear,
      slices: false,
      tokenizer: "tokenizer_source",
    });
    expect(findings.some((f) => f.severity === "blocking")).toBe(true);
  });
});
