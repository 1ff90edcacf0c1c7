import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { buildOutputVocab, type SourceVocab } from "../../../src/merge/tokenizer/output-vocab.js";
import { sentencePieceFiles } from "../../../src/merge/tokenizer/spm-files.js";
import { assertUnionFitsPieces } from "../../../src/merge/tokenizer/spm-union.js";
import { sentencePieceVocab } from "../../../src/merge/tokenizer/spm-vocab.js";
import { vocabChanged } from "../../../src/merge/tokenizer/tokenizer-files.js";
import { parseVocab } from "../../../src/merge/tokenizer/vocab.js";

const PIECES = ["<unk>", "<s>", "</s>", "▁a", "▁b"];
const special = (content: string) => ({ content, special: true, normalized: false });
const text = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

function spm(ref: string, decoder: Record<string, object>, size: number, pieces = PIECES): SourceVocab {
  return { ref, vocab: sentencePieceVocab(pieces, { config: { added_tokens_decoder: decoder } }, ref), size };
}

function json(ref: string, vocab: string[], added: [number, string][]): SourceVocab {
  const tokenizer = {
    model: { type: "BPE", vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges: [] },
    added_tokens: added.map(([id, content]) => ({ id, content, special: true, normalized: false })),
  };
  const parsed = parseVocab(tokenizer, ref);
  return { ref, vocab: parsed, size: vocab.length + added.length };
}

describe("sentencePieceFiles", () => {
  it("drops the base's added tokens past its vocab_size, and added_tokens.json with them", () => {
    // Llama-2 style: <pad> added at 5, but the embeddings have 5 rows.
    const base = spm("base", { "0": special("<unk>"), "5": special("<pad>") }, 5);
    const output = buildOutputVocab({ kind: "base" }, base, [], []);
    expect(vocabChanged(output)).toBe(true);
    const files = sentencePieceFiles(
      output,
      PIECES,
      { tokenizer_class: "LlamaTokenizer", pad_token: "<unk>" },
      "base",
    );
    expect(text(files.files.get("tokenizer_config.json"))).toEqual({
      tokenizer_class: "LlamaTokenizer",
      pad_token: "<unk>",
      added_tokens_decoder: {
        "0": {
          content: "<unk>",
          lstrip: false,
          normalized: false,
          rstrip: false,
          single_word: false,
          special: true,
        },
      },
    });
    expect(files.files.has("added_tokens.json")).toBe(false);
    expect(files.drop).toEqual(["added_tokens.json"]);
    expect(files.files.has("tokenizer.model")).toBe(false); // copied from the source as it is
  });

  it("union: the base's added tokens, then the others', in tokenizer_config.json and added_tokens.json", () => {
    const base = spm("base", { "5": special("<pad>") }, 6);
    const chat = json("chat", PIECES, [
      [5, "<|im_start|>"],
      [6, "<pad>"],
    ]);
    const output = buildOutputVocab({ kind: "union" }, base, [chat], []);
    const files = sentencePieceFiles(output, PIECES, undefined, "base");
    const config = text(files.files.get("tokenizer_config.json")) as { added_tokens_decoder: object };
    expect(
      Object.entries(config.added_tokens_decoder).map(([id, t]) => [id, (t as { content: string }).content]),
    ).toEqual([
      ["5", "<pad>"],
      ["6", "<|im_start|>"],
    ]);
    expect(text(files.files.get("added_tokens.json"))).toEqual({ "<pad>": 5, "<|im_start|>": 6 });
    expect(files.drop).toEqual([]);
  });
});

describe("assertUnionFitsPieces", () => {
  const base = spm("base", {}, 5);
  const where = { label: "tokenizer_source: union", where: { file: "m.yaml", line: 3 } };

  it("accepts sources with the same pieces, fewer of them, or in another order", () => {
    const same = json("same", PIECES, [[5, "<|im_end|>"]]);
    const fewer = json("fewer", PIECES.slice(0, 4), []);
    const shuffled = json("shuffled", ["<s>", "<unk>", "</s>", "▁b", "▁a"], []);
    expect(() => assertUnionFitsPieces(base, PIECES, [same, fewer, shuffled], where)).not.toThrow();
  });

  it("refuses a source with a token that is not a piece, naming the first id where they differ", () => {
    const extended = spm("extended", {}, 7, [...PIECES, "▁c", "▁d"]);
    const renamed = json("renamed", ["<unk>", "<s>", "</s>", "▁x", "▁b"], []);
    for (const [other, message] of [
      [extended, 'they differ from id 5 (no piece in base, "▁c" in extended), and 2 of extended\'s tokens'],
      [renamed, 'they differ from id 3 ("▁a" in base, "▁x" in renamed), and 1 of renamed\'s tokens'],
    ] as const) {
      let error: unknown;
      try {
        assertUnionFitsPieces(base, PIECES, [other], where);
      } catch (e) {
        error = e;
      }
      expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
      expect((error as Error).message).toContain(message);
      expect((error as { where: object }).where).toEqual({ file: "m.yaml", line: 3, model: other.ref });
    }
  });
});
