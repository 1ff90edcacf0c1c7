import { describe, expect, it } from "vitest";
import { formatValue, renderJson, renderMarkdown, renderText } from "../../src/compat/render.js";
import type { CompatReport } from "../../src/compat/report.js";

const REPORT: CompatReport = {
  manifest: "examples/merge.yaml",
  method: "dare_ties",
  reference: "meta-llama/Llama-2-7b-hf",
  models: ["meta-llama/Llama-2-7b-hf", "org/math", "WizardLM/WizardLM-7B-V1.0"],
  findings: [
    {
      severity: "info",
      code: "config.hidden_act",
      model: "org/math",
      field: "hidden_act",
      base: "silu",
      value: "gelu|tanh",
      message: "hidden_act is gelu|tanh here",
      fix: "usually harmless",
      pos: { line: 4, column: 5 },
    },
    {
      severity: "warning",
      code: "config.max_position_embeddings",
      model: "WizardLM/WizardLM-7B-V1.0",
      field: "max_position_embeddings",
      base: 4096,
      value: 2048,
      message: "position encoding differs",
      fix: "check the model's base",
      pos: { line: 6, column: 5 },
    },
    {
      severity: "blocking",
      code: "probe.unrelated",
      model: "WizardLM/WizardLM-7B-V1.0",
      tensor: "model.layers.31.mlp.down_proj.weight",
      base: { cosine: "≥ 0.5", relativeDelta: "≤ 1" },
      value: { cosine: 0.0123, relativeDelta: 1.41 },
      message: "WizardLM/WizardLM-7B-V1.0 is not derived from meta-llama/Llama-2-7b-hf",
      fix: "use a fine-tune of meta-llama/Llama-2-7b-hf",
      pos: { line: 6, column: 5 },
    },
    {
      severity: "warning",
      code: "layout.shape",
      model: "org/math",
      tensor: "model.embed_tokens.weight",
      base: "[32000, 4096]",
      value: "[32002, 4096]",
      message: "cut to the reference's shape",
      fix: "fine",
      pos: { line: 4, column: 5 },
      action: "truncate",
    },
  ],
  probe: [
    {
      model: "org/math",
      reference: "meta-llama/Llama-2-7b-hf",
      bytesRead: 4_000_000,
      tensors: [],
      summary: { cosine: 0.9991, relativeDelta: 0.04, p99AbsDelta: 0.0042, maxAbsDelta: 0.02 },
    },
    {
      model: "WizardLM/WizardLM-7B-V1.0",
      reference: "meta-llama/Llama-2-7b-hf",
      bytesRead: 100,
      tensors: [],
    },
  ],
  blocking: true,
};

describe("renderText", () => {
  const text = renderText(REPORT);
  const lines = text.split("\n");

  it("puts blocking findings first, each row with model, line, field or tensor and both values", () => {
    const rows = lines.filter((l) => /^\d+\s+(blocking|warning|info)/.test(l));
    expect(rows.map((r) => r.split(/\s+/)[1])).toEqual(["blocking", "warning", "warning", "info"]);
    expect(rows[0]).toMatch(/6\s+WizardLM\/WizardLM-7B-V1\.0\s+model\.layers\.31\.mlp\.down_proj\.weight/);
    expect(rows[1]).toMatch(/6\s+WizardLM\/WizardLM-7B-V1\.0\s+max_position_embeddings\s+4096\s+2048/);
  });

  it("explains every finding with its code, message and fix", () => {
    expect(text).toContain("1. [probe.unrelated] WizardLM/WizardLM-7B-V1.0 is not derived");
    expect(text).toContain("   fix: use a fine-tune of meta-llama/Llama-2-7b-hf");
    expect(text).toContain("[layout.shape] cut to the reference's shape (truncate)");
  });

  it("shows the probe table and the verdict", () => {
    expect(text).toMatch(/org\/math\s+0\s+0\.9991\s+0\.040\s+0\.0042\s+0\.02\s+3906\.3 KiB/);
    expect(text).toMatch(/WizardLM\/WizardLM-7B-V1\.0\s+0\s+—/);
    expect(lines.at(-2)).toMatch(/^BLOCKING: 1 blocking, 2 warning\(s\), 1 info\..*allow_incompatible/);
  });

  it("says compatible when nothing blocks", () => {
    expect(renderText({ ...REPORT, findings: [], probe: [], blocking: false })).toMatch(
      /compatible: 0 blocking/,
    );
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(REPORT);

  it("renders a table with one row per finding and escaped cells", () => {
    expect(md).toMatch(/^### Backbone compatibility: ⛔ blocking/);
    expect(md).toContain(
      "| ⛔ blocking | `WizardLM/WizardLM-7B-V1.0` | 6 | `model.layers.31.mlp.down_proj.weight` |",
    );
    expect(md).toContain("gelu\\|tanh");
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && /blocking|warning|info/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBe(10);
  });

  it("folds the probe into a details block", () => {
    expect(md).toContain("<details><summary>Delta probe");
    expect(md).toMatch(/\| org\/math \| 0 \| 0\.9991 \|/);
  });
});

describe("renderJson", () => {
  it("round-trips the report, with nulls for absent values", () => {
    const parsed = JSON.parse(renderJson(REPORT));
    expect(parsed.blocking).toBe(true);
    expect(parsed.findings).toHaveLength(4);
    expect(parsed.findings[0].field).toBe("hidden_act");
    expect(parsed.findings[0].tensor).toBeNull();
    expect(parsed.findings[0].action).toBeNull();
    expect(parsed.findings[3].pos).toEqual({ line: 4, column: 5 });
    expect(parsed.probe[1].summary).toBeNull();
    expect(parsed.findings[2].value).toEqual({ cosine: 0.0123, relativeDelta: 1.41 });
  });
});

describe("formatValue", () => {
  it("keeps values short and readable", () => {
    expect(formatValue(undefined)).toBe("—");
    expect(formatValue(1e-6)).toBe("1.00e-6");
    expect(formatValue(0.123456)).toBe("0.1235");
    expect(formatValue(["a/b", "c/d"])).toBe("a/b → c/d");
    expect(formatValue([0, 16])).toBe("[0,16]");
    expect(formatValue({ type: "linear", factor: 2 })).toBe("type linear, factor 2");
  });
});

describe("renderMarkdown probe table", () => {
  it("escapes the pipes of |δ| in its header", () => {
    const header = renderMarkdown(REPORT)
      .split("\n")
      .find((l) => l.startsWith("| MODEL"))!;
    expect(header.split(/(?<!\\)\|/).length).toBe(9);
  });
});
