import { describe, expect, it } from "vitest";
import { lineageFromCards } from "../../src/compat/card-lineage.js";

const CARDS: Record<string, Record<string, unknown>> = {
  "org/chat-math": { base_model: ["org/math", "org/chat"] },
  "org/math": { base_model: "meta-llama/Llama-2-7b-hf", license: "llama2" },
  "meta-llama/Llama-2-7b-hf": { license: "llama2" },
  "org/loop-a": { base_model: "org/loop-b" },
  "org/loop-b": { base_model: "org/loop-a" },
  "org/orphan": { base_model: "org/deleted" },
};

const lookup = lineageFromCards(async (repo) => CARDS[repo]);

describe("lineageFromCards", () => {
  it("follows base_model from card to card, taking the first of a list", async () => {
    expect(await lookup("org/chat-math")).toEqual(["org/math", "meta-llama/Llama-2-7b-hf"]);
    expect(await lookup("meta-llama/Llama-2-7b-hf")).toEqual([]);
  });

  it("is undefined when the model's own card cannot be read", async () => {
    expect(await lookup("org/missing")).toBeUndefined();
  });

  it("stops at an unreadable ancestor, a loop, and the depth limit", async () => {
    expect(await lookup("org/orphan")).toEqual(["org/deleted"]);
    expect(await lookup("org/loop-a")).toEqual(["org/loop-b"]);
    const endless = lineageFromCards(async (repo) => ({ base_model: `${repo}x` }), 3);
    expect(await endless("a")).toEqual(["ax", "axx", "axxx"]);
  });
});
