import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHubmergeError, type HubmergeError } from "../../../src/errors.js";
import { readVocab } from "../../../src/merge/tokenizer/read-vocab.js";
import { sentencePieceVocab, type SentencePieceSideFiles } from "../../../src/merge/tokenizer/spm-vocab.js";
import { MAX_TOKENIZER_BYTES } from "../../../src/merge/tokenizer/vocab.js";
import { LocalSource } from "../../../src/source/local-source.js";
import type { ModelSource } from "../../../src/source/model-source.js";
import { encodeSentencePieceModel, llamaPieces } from "../../support/sentencepiece-models.js";

const PIECES = ["<unk>", "<s>", "</s>", "▁a", "▁b"];
const REF = "org/spm";
const special = (content: string) => ({ content, special: true, normalized: false });

function refusal(files: SentencePieceSideFiles): Error {
  try {
    sentencePieceVocab(PIECES, files, REF);
  } catch (error) {
    expect(isHubmergeError(error, "E_IO")).toBe(true);
    expect((error as { where: object }).where).toEqual({ model: REF });
    return error as Error;
  }
  throw new Error("accepted");
}

describe("sentencePieceVocab", () => {
  it("pieces by position, then added_tokens_decoder's tokens with their flags", () => {
    const vocab = sentencePieceVocab(
      PIECES,
      {
        config: {
          added_tokens_decoder: {
            "6": { content: "<|im_end|>", special: true, normalized: false, lstrip: true },
            "0": special("<unk>"),
            "5": { content: "<pad>", special: true },
          },
        },
        // The decoder wins (transformers reads added_tokens.json only without it); they agree.
        addedTokens: { "<pad>": 5, "<|im_end|>": 6 },
      },
      REF,
    );
    expect([...vocab.ids]).toEqual([
      ["<unk>", 0],
      ["<s>", 1],
      ["</s>", 2],
      ["▁a", 3],
      ["▁b", 4],
      ["<pad>", 5],
      ["<|im_end|>", 6],
    ]);
    expect([...vocab.added.values()]).toEqual([
      {
        id: 0,
        content: "<unk>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
      {
        id: 5,
        content: "<pad>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
      {
        id: 6,
        content: "<|im_end|>",
        single_word: false,
        lstrip: true,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ]);
    expect(vocab.format).toEqual({ kind: "tokenizer.model", pieces: PIECES });
  });

  it("legacy added_tokens.json: special exactly when a special-token setting names the token", () => {
    const vocab = sentencePieceVocab(
      PIECES,
      {
        config: { pad_token: { content: "<pad>" } },
        addedTokens: { "<pad>": 5, "<tool>": 7, "<x>": 6 },
        specialTokensMap: { additional_special_tokens: ["<tool>"] },
      },
      REF,
    );
    expect([...vocab.added.values()].map((t) => [t.id, t.content, t.special, t.normalized])).toEqual([
      [5, "<pad>", true, false],
      [6, "<x>", false, true],
      [7, "<tool>", true, false],
    ]);
    expect(vocab.ids.get("<tool>")).toBe(7);
  });

  it("no side files: the pieces alone", () => {
    const vocab = sentencePieceVocab(PIECES, {}, REF);
    expect(vocab.ids.size).toBe(5);
    expect(vocab.added.size).toBe(0);
  });

  it("refuses files that disagree, naming the file and the id", () => {
    const cases: [SentencePieceSideFiles, string][] = [
      [
        { config: { added_tokens_decoder: { "3": special("<x>") } } },
        'the added tokens disagree: tokenizer_config.json\'s `added_tokens_decoder` gives id 3 to "<x>", but tokenizer.model\'s piece 3 is "▁a"',
      ],
      [
        { config: { added_tokens_decoder: { "9": special("<s>") } } },
        "the added tokens disagree: tokenizer_config.json's `added_tokens_decoder` gives id 9 to \"<s>\", which is tokenizer.model's piece 1",
      ],
      [
        { config: { added_tokens_decoder: { "5": special("<x>"), "6": special("<x>") } } },
        'the added tokens disagree: tokenizer_config.json\'s `added_tokens_decoder` gives "<x>" two ids, 5 and 6',
      ],
      [
        { config: { added_tokens_decoder: { "5": special("<x>") } }, addedTokens: { "<x>": 6 } },
        'the added tokens disagree: added_tokens.json gives id 6 to "<x>", but tokenizer_config.json\'s `added_tokens_decoder` has no such id',
      ],
      [
        { config: { added_tokens_decoder: { "5": special("<x>") } }, addedTokens: { "<y>": 5 } },
        'the added tokens disagree: added_tokens.json gives id 5 to "<y>", but tokenizer_config.json\'s `added_tokens_decoder` has "<x>" there',
      ],
      [
        { addedTokens: { "<x>": 5, "<y>": 5 } },
        'the added tokens disagree: added_tokens.json gives id 5 to both "<x>" and "<y>"',
      ],
      [
        { addedTokens: { "<x>": 4 } },
        'the added tokens disagree: added_tokens.json gives id 4 to "<x>", but tokenizer.model\'s piece 4 is "▁b"',
      ],
    ];
    for (const [files, message] of cases) {
      const error = refusal(files);
      expect(error.message).toBe(message);
      expect((error as { hint?: string }).hint).toMatch(
        /make tokenizer_config.json, added_tokens.json and tokenizer.model agree/,
      );
    }
  });

  it("refuses malformed side files", () => {
    const cases: [SentencePieceSideFiles, string][] = [
      [{ config: [] }, "tokenizer_config.json is not a JSON object"],
      [{ config: { added_tokens_decoder: [] } }, "`added_tokens_decoder` is not an object of id → token"],
      [{ config: { added_tokens_decoder: { x: special("<x>") } } }, 'has the key "x", not a token id'],
      [{ config: { added_tokens_decoder: { "-1": special("<x>") } } }, 'has the key "-1", not a token id'],
      [{ config: { added_tokens_decoder: { "99999999999": special("<x>") } } }, 'has the key "99999999999"'],
      [
        { config: { added_tokens_decoder: { "5": { special: true } } } },
        "`added_tokens_decoder`'s entry 5 has no `content`",
      ],
      [{ addedTokens: ["<x>"] }, "added_tokens.json is not an object of token → id"],
      [{ addedTokens: { "<x>": "5" } }, 'added_tokens.json gives "<x>" the id "5"'],
      [{ addedTokens: { "<x>": 2.5 } }, 'added_tokens.json gives "<x>" the id 2.5'],
    ];
    for (const [files, message] of cases) expect(refusal(files).message).toContain(message);
  });

  it("caps the number of added tokens in either file", () => {
    const decoder = { "5": special("<x>"), "6": special("<y>") };
    const caught = (files: SentencePieceSideFiles) => {
      try {
        sentencePieceVocab(PIECES, files, REF, 1);
      } catch (error) {
        return error as Error;
      }
      throw new Error("accepted");
    };
    expect(caught({ config: { added_tokens_decoder: decoder } }).message).toBe(
      "tokenizer_config.json's `added_tokens_decoder` has more than 1 tokens",
    );
    expect(caught({ addedTokens: { "<x>": 5, "<y>": 6 } }).message).toBe(
      "added_tokens.json has more than 1 tokens",
    );
    expect(sentencePieceVocab(PIECES, { addedTokens: { "<x>": 5 } }, REF, 1).ids.get("<x>")).toBe(5);
  });
});

describe("readVocab on model folders", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hubmerge-spm-vocab-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function folder(name: string, files: Record<string, string | Uint8Array>): Promise<LocalSource> {
    const path = join(dir, name);
    await rm(path, { recursive: true, force: true });
    await mkdir(path);
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(path, file), bytes);
    return LocalSource.open(path, path);
  }

  const model = encodeSentencePieceModel(llamaPieces(6));

  it("reads tokenizer.model with its side files when there is no tokenizer.json", async () => {
    const source = await folder("spm", {
      "tokenizer.model": model,
      "tokenizer_config.json": JSON.stringify({ added_tokens_decoder: { "6": special("<|im_start|>") } }),
    });
    const vocab = (await readVocab(source))!;
    expect(vocab.format.kind).toBe("tokenizer.model");
    expect(vocab.ids.get("tok5")).toBe(5);
    expect(vocab.ids.get("<|im_start|>")).toBe(6);
  });

  it("prefers tokenizer.json, as transformers' fast tokenizer does", async () => {
    const json = { model: { type: "WordLevel", vocab: { a: 0, b: 1 } }, added_tokens: [] };
    const source = await folder("both", { "tokenizer.model": model, "tokenizer.json": JSON.stringify(json) });
    const vocab = (await readVocab(source))!;
    expect(vocab.format.kind).toBe("tokenizer.json");
    expect([...vocab.ids.keys()]).toEqual(["a", "b"]);
  });

  it("refuses files larger than a tokenizer before parsing them", async () => {
    const huge = new Uint8Array(MAX_TOKENIZER_BYTES + 1);
    const stub = (files: Record<string, Uint8Array>): ModelSource => ({
      ref: "org/huge",
      revision: undefined,
      listFiles: () => Promise.resolve(Object.keys(files)),
      readFile: (path) => Promise.resolve(files[path] ?? null),
      open: () => Promise.reject(new Error("not used")),
    });
    await expect(readVocab(stub({ "tokenizer.model": huge }))).rejects.toThrow(
      `tokenizer.model is ${MAX_TOKENIZER_BYTES + 1} bytes, more than a tokenizer`,
    );
    await expect(
      readVocab(stub({ "tokenizer.model": model, "tokenizer_config.json": huge })),
    ).rejects.toThrow(`tokenizer_config.json is ${MAX_TOKENIZER_BYTES + 1} bytes, more than a tokenizer's`);
  });

  it("null without either file", async () => {
    expect(await readVocab(await folder("none", { "config.json": "{}" }))).toBeNull();
  });

  it("refuses a side file that is not JSON, or a damaged tokenizer.model, naming the model", async () => {
    const bad = await folder("badjson", { "tokenizer.model": model, "added_tokens.json": "{not json" });
    const error = (await readVocab(bad).catch((e: unknown) => e)) as HubmergeError;
    expect(isHubmergeError(error, "E_IO")).toBe(true);
    expect(error.message).toMatch(/^added_tokens.json is not JSON: /);
    expect(error.where.model).toBe(bad.ref);
    const cut = await folder("cut", { "tokenizer.model": model.subarray(0, 40) });
    await expect(readVocab(cut)).rejects.toThrow(/tokenizer.model is not a readable sentencepiece model/);
  });
});
