import { describe, expect, it } from "vitest";
import { checkLineage, type LineageLookup } from "../../src/compat/lineage.js";
import type { ModelRef } from "../../src/model-ref.js";

const CARDS: Record<string, string[] | undefined> = {
  "meta-llama/Llama-2-7b-hf": [],
  "WizardLM/WizardMath-7B-V1.0": ["meta-llama/Llama-2-7b-hf"],
  "WizardLM/WizardLM-7B-V1.0": ["huggyllama/llama-7b"],
  "org/chat-of-math": ["WizardLM/WizardMath-7B-V1.0", "meta-llama/Llama-2-7b-hf"],
  "meta-llama/Llama-2-7b-chat-hf": ["meta-llama/Llama-2-7b-hf"],
  "org/chat-ft": ["meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf"],
  "org/no-card-base": [],
};

const lookup: LineageLookup = async (repo) => (repo in CARDS ? CARDS[repo] : undefined);

function hub(repo: string, line = 3) {
  const ref: ModelRef = { raw: repo, kind: "hub", repo };
  return { name: repo, ref, pos: { line, column: 5 } };
}

describe("checkLineage", () => {
  it("accepts fine-tunes whose chain reaches the base, directly or through others", async () => {
    const findings = await checkLineage(
      hub("meta-llama/Llama-2-7b-hf"),
      [hub("WizardLM/WizardMath-7B-V1.0"), hub("org/chat-of-math")],
      lookup,
    );
    expect(findings).toEqual([]);
  });

  it("accepts a chain that reaches one of the base's own ancestors", async () => {
    const findings = await checkLineage(
      hub("meta-llama/Llama-2-7b-chat-hf"),
      [hub("WizardLM/WizardMath-7B-V1.0")],
      lookup,
    );
    expect(findings).toEqual([]);
    expect(await checkLineage(hub("meta-llama/Llama-2-7b-chat-hf"), [hub("org/chat-ft")], lookup)).toEqual(
      [],
    );
  });

  it("warns, naming both chains, when a fine-tune comes from another base (WizardLM on LLaMA-1)", async () => {
    const findings = await checkLineage(
      hub("meta-llama/Llama-2-7b-hf"),
      [hub("WizardLM/WizardLM-7B-V1.0", 7)],
      lookup,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: "warning",
      code: "lineage.unrelated",
      model: "WizardLM/WizardLM-7B-V1.0",
      base: ["meta-llama/Llama-2-7b-hf"],
      value: ["WizardLM/WizardLM-7B-V1.0", "huggyllama/llama-7b"],
      pos: { line: 7, column: 5 },
    });
    expect(findings[0]!.message).toContain("WizardLM/WizardLM-7B-V1.0 → huggyllama/llama-7b");
    expect(findings[0]!.message).toContain("meta-llama/Llama-2-7b-hf");
  });

  it("says when a lineage cannot be known, and never fails on a lookup error", async () => {
    const failing: LineageLookup = async (repo) => {
      if (repo === "org/broken") throw new Error("HTTP 500");
      return lookup(repo);
    };
    const findings = await checkLineage(
      hub("meta-llama/Llama-2-7b-hf"),
      [hub("org/no-card-base"), hub("org/unknown"), hub("org/broken")],
      failing,
    );
    expect(findings.map((f) => [f.code, f.severity])).toEqual([
      ["lineage.unknown", "info"],
      ["lineage.unknown", "info"],
      ["lineage.unknown", "info"],
    ]);
    expect(findings[2]!.message).toMatch(/HTTP 500/);
  });

  it("skips local models and local references, and looks each repo up once", async () => {
    const calls: string[] = [];
    const counting: LineageLookup = async (repo) => {
      calls.push(repo);
      return lookup(repo);
    };
    const local = { name: "./ft", ref: { raw: "./ft", kind: "local" as const, path: "/x/ft" } };
    expect(await checkLineage(local, [hub("WizardLM/WizardLM-7B-V1.0")], counting)).toEqual([]);
    expect(calls).toEqual([]);
    const twice = hub("WizardLM/WizardMath-7B-V1.0");
    await checkLineage(hub("meta-llama/Llama-2-7b-hf"), [twice, local, twice], counting);
    expect(calls).toEqual(["meta-llama/Llama-2-7b-hf", "WizardLM/WizardMath-7B-V1.0"]);
  });
});
