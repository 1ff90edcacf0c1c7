import { describe, expect, it } from "vitest";
import { drawKey, drawSample } from "../../src/verify/sample.js";

/** A llama-like tensor list: embeddings, 10 layers of 4 tensors (one tiny norm), a head. */
function tensors() {
  const list = [
    { name: "model.embed_tokens.weight", bytes: 2_000 },
    { name: "lm_head.weight", bytes: 2_000 },
    { name: "model.norm.weight", bytes: 10 },
  ];
  for (let i = 0; i < 10; i++) {
    list.push(
      { name: `model.layers.${i}.self_attn.q_proj.weight`, bytes: 4_000 },
      { name: `model.layers.${i}.mlp.up_proj.weight`, bytes: 8_000 },
      { name: `model.layers.${i}.mlp.down_proj.weight`, bytes: 8_000 },
      { name: `model.layers.${i}.input_layernorm.weight`, bytes: 10 },
    );
  }
  return list;
}

describe("the sample draw", () => {
  it("is a pure function of the seed: same seed same sample, another seed another", () => {
    expect([...drawSample(tensors(), 0.1, 5)]).toEqual([...drawSample(tensors(), 0.1, 5)]);
    expect([...drawSample(tensors(), 0.1, 5)].sort()).not.toEqual([...drawSample(tensors(), 0.1, 6)].sort());
    expect(drawKey(5, "x")).toBe(drawKey(5, "x"));
  });

  it("always takes the input embeddings and a tensor of every layer, and stays within the budget", () => {
    const list = tensors();
    const total = list.reduce((s, t) => s + t.bytes, 0);
    for (const seed of [1, 2, 3]) {
      const chosen = drawSample(list, 0.1, seed);
      expect(chosen.has("model.embed_tokens.weight")).toBe(true);
      for (let i = 0; i < 10; i++)
        expect([...chosen].some((n) => n.startsWith(`model.layers.${i}.`))).toBe(true);
      const bytes = list.filter((t) => chosen.has(t.name)).reduce((s, t) => s + t.bytes, 0);
      expect(bytes).toBeLessThanOrEqual(0.1 * total);
    }
  });

  it("takes everything at 100%", () => {
    expect(drawSample(tensors(), 1, 1).size).toBe(tensors().length);
  });
});
