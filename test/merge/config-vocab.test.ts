import { describe, expect, it } from "vitest";
import { configVocabSize, withVocabSize } from "../../src/merge/config-vocab.js";

describe("config vocabulary size", () => {
  it("reads the top-level key of text models and text_config's of vision-language models", () => {
    expect(configVocabSize({ vocab_size: 32000 })).toBe(32000);
    expect(configVocabSize({ text_config: { vocab_size: 262208 }, vision_config: {} })).toBe(262208);
    expect(configVocabSize({ vocab_size: 151936, text_config: { vocab_size: 1 } })).toBe(151936);
    expect(configVocabSize({ vocab_size: "32000", text_config: [] })).toBeUndefined();
    expect(configVocabSize({ vocab_size: 0 })).toBeUndefined();
    expect(configVocabSize(undefined)).toBeUndefined();
  });

  it("writes every key the config has, and the top one when it has none", () => {
    const gemma = {
      architectures: ["Gemma3ForConditionalGeneration"],
      text_config: { vocab_size: 8, hidden_size: 4 },
    };
    expect(withVocabSize(gemma, 16)).toEqual({ ...gemma, text_config: { vocab_size: 16, hidden_size: 4 } });
    expect(gemma.text_config.vocab_size).toBe(8); // the input is not changed
    expect(withVocabSize({ vocab_size: 8, text_config: { vocab_size: 8 } }, 16)).toEqual({
      vocab_size: 16,
      text_config: { vocab_size: 16 },
    });
    expect(withVocabSize({ vocab_size: 8, text_config: { hidden_size: 4 } }, 16)).toEqual({
      vocab_size: 16,
      text_config: { hidden_size: 4 },
    });
    expect(withVocabSize({ hidden_size: 4 }, 16)).toEqual({ hidden_size: 4, vocab_size: 16 });
  });
});
