import { describe, expect, it } from "vitest";
import { diffLayouts, type TensorLayout } from "../../src/compat/layout-diff.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";

const method = (name: string) => methodRegistry.get(name)!;

function vocabDiff(name: string) {
  const table = (vocab: number) =>
    new Map<string, TensorLayout>([["model.embed_tokens.weight", { dtype: "BF16", shape: [vocab, 8] }]]);
  return diffLayouts({
    reference: { name: "base", tensors: table(16), layerCount: 0 },
    model: { name: "ft", tensors: table(20), layerCount: 0, pos: { line: 4, column: 5 } },
    method: method(name),
    slices: false,
  });
}

describe("method policies of the newer mergekit methods", () => {
  it("reads the method's own shape policy: arcee_fusion crops embeddings, the others need equal shapes", () => {
    expect(method("arcee_fusion").shapePolicy).toBe("task-family");
    for (const name of ["multislerp", "karcher", "nearswap", "sce", "ram", "ramplus_tl"]) {
      expect(method(name).shapePolicy).toBe("strict");
      expect(method(name).dropsAtRandom).toBe(false);
    }
  });

  it("blocks a vocabulary difference for sce and lets arcee_fusion cut it to the base", () => {
    expect(vocabDiff("sce").map((f) => [f.severity, f.action])).toEqual([["blocking", "error"]]);
    const fusion = vocabDiff("arcee_fusion");
    expect(fusion.map((f) => [f.severity, f.action])).toEqual([["warning", "truncate"]]);
    expect(fusion[0]!.message).toMatch(/arcee_fusion cuts it/);
  });
});
