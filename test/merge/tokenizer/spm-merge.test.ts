/**
 * Tokenizer merges whose sources ship a sentencepiece tokenizer.model and no tokenizer.json,
 * alone or mixed with tokenizer.json sources: the output files, the output vocabulary (read back
 * with the reader the tokenizer merge uses) and the embedding rows, byte for byte.
 */
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { readVocab } from "../../../src/merge/tokenizer/read-vocab.js";
import { startLocalHub } from "../../../src/localhub/index.js";
import { runMerge } from "../../../src/pipeline/index.js";
import { HubSource } from "../../../src/source/hub-source.js";
import { LocalSource } from "../../../src/source/local-source.js";
import { seedHubModel } from "../../support/hub-models.js";
import { TEST_LLAMA, writeManifest } from "../../support/models.js";
import { writeSentencePieceModel } from "../../support/sentencepiece-models.js";
import { tensorBytes } from "../../support/tensor-bytes.js";
import { writeAddedTokenModel } from "../../support/tokenizer-models.js";

const H = TEST_LLAMA.hiddenSize;
const V = TEST_LLAMA.vocabSize;
const ROW = H * 2; // BF16
const CHATML = ["<|im_start|>", "<|im_end|>"];
const SPECIAL = { lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
const PLAIN = { lstrip: false, normalized: true, rstrip: false, single_word: false, special: false };

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-spm-"));
  await writeSentencePieceModel(join(dir, "spmbase"));
  await writeSentencePieceModel(join(dir, "spmchat"), { deltaSeed: 102, added: [...CHATML, "<tool>"] });
  await writeAddedTokenModel(join(dir, "chat"), { deltaSeed: 101, added: CHATML });
  await writeAddedTokenModel(join(dir, "jsonbase"), {});
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const row = (bytes: Uint8Array, i: number) => [...bytes.subarray(i * ROW, (i + 1) * ROW)];

async function merge(name: string, body: string) {
  const manifest = await writeManifest(dir, body, `${name}.yaml`);
  return runMerge({ manifestPath: manifest, out: join(dir, name), backend: "reference" });
}

async function mergeError(name: string, body: string): Promise<Error & { code?: string; where?: object }> {
  const error = (await merge(name, body).then(
    () => new Error("merged"),
    (e: unknown) => e,
  )) as Error;
  return error;
}

const linear = (weights: [string, number][], tail: string) =>
  "merge_method: linear\nmodels:\n" +
  weights.map(([model, w]) => `  - model: ${model}\n    parameters: {weight: ${w}}\n`).join("") +
  tail;

const json = async (path: string) => JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
const bytesOf = (path: string) => readFile(path);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function expectCopied(out: string, model: string, names: string[]): Promise<void> {
  for (const name of names) {
    expect((await bytesOf(join(out, name))).equals(await bytesOf(join(dir, model, name))), name).toBe(true);
  }
}

/** The output's vocabulary as the tokenizer merge would read it back. */
async function outputVocab(out: string): Promise<Map<string, number>> {
  const vocab = await readVocab(await LocalSource.open(out, out));
  return vocab!.ids;
}

describe("union: a tokenizer.model-only base and a tokenizer.json fine-tune with ChatML tokens", () => {
  it("keeps the base's tokenizer.model and adds the fine-tune's tokens as added tokens", async () => {
    const result = await merge(
      "union",
      linear(
        [
          ["./spmbase", 1],
          ["./chat", 0],
        ],
        "tokenizer_source: union\n",
      ),
    );
    const out = result.outDir;
    await expectCopied(out, "spmbase", ["tokenizer.model", "special_tokens_map.json"]);
    expect(await exists(join(out, "tokenizer.json"))).toBe(false);
    const config = await json(join(out, "tokenizer_config.json"));
    expect(config.tokenizer_class).toBe("LlamaTokenizer");
    expect(config.added_tokens_decoder).toEqual({
      "0": { content: "<unk>", ...SPECIAL },
      "1": { content: "<s>", ...SPECIAL },
      "2": { content: "</s>", ...SPECIAL },
      [V]: { content: "<|im_start|>", ...SPECIAL },
      [V + 1]: { content: "<|im_end|>", ...SPECIAL },
    });
    expect(await json(join(out, "added_tokens.json"))).toEqual({ "<|im_start|>": V, "<|im_end|>": V + 1 });
    expect((await json(join(out, "config.json"))).vocab_size).toBe(V + 2);
    // Read back, every token of both sources has the id the plan gave it.
    const ids = await outputVocab(out);
    expect(ids).toEqual(result.plan.tokenizer!.outputIds);
    const chat = await json(join(dir, "chat", "tokenizer.json"));
    for (const token of Object.keys((chat.model as { vocab: object }).vocab)) {
      expect(ids.get(token), token).toBe(result.plan.tokenizer!.outputIds.get(token));
    }
    expect([ids.get("tok7"), ids.get("<|im_start|>"), ids.get("<|im_end|>")]).toEqual([7, V, V + 1]);
  });

  it("puts the embedding and LM-head rows at the output ids (exact bytes)", async () => {
    // Weight 1 on the base alone: its own rows, and the fine-tune's for the tokens only it has.
    const body = linear(
      [
        ["./spmbase", 1],
        ["./chat", 0],
      ],
      "tokenizer_source: union\n",
    );
    const out = (await merge("union-rows", body)).outDir;
    for (const name of ["model.embed_tokens.weight", "lm_head.weight"]) {
      const base = await tensorBytes(join(dir, "spmbase"), name);
      const chat = await tensorBytes(join(dir, "chat"), name);
      const merged = await tensorBytes(out, name);
      expect(merged.byteLength, name).toBe((V + 2) * ROW);
      for (const i of [0, 1, 7, V - 1]) expect(row(merged, i), `${name} ${i}`).toEqual(row(base, i));
      expect(row(merged, V), name).toEqual(row(chat, V));
      expect(row(merged, V + 1), name).toEqual(row(chat, V + 1));
    }
  });

  it("a tokenizer.json base and a tokenizer.model fine-tune: the union is written as tokenizer.json", async () => {
    const result = await merge(
      "union-json",
      linear(
        [
          ["./jsonbase", 0],
          ["./spmchat", 1],
        ],
        "tokenizer_source: union\n",
      ),
    );
    const out = result.outDir;
    const tokenizer = new Tokenizer(
      await json(join(out, "tokenizer.json")),
      await json(join(out, "tokenizer_config.json")),
    );
    const tokens = ["<|im_start|>", "<|im_end|>", "<tool>", "tok5", "</s>"];
    expect(tokens.map((t) => tokenizer.token_to_id(t))).toEqual([V, V + 1, V + 2, 5, 2]);
    const spmchat = await tensorBytes(join(dir, "spmchat"));
    const merged = await tensorBytes(out);
    for (const i of [3, V, V + 1, V + 2]) expect(row(merged, i)).toEqual(row(spmchat, i));
  });
});

describe("the output tokenizer from a tokenizer.model-only model", () => {
  it("tokenizer_source: base copies the base's tokenizer files byte for byte", async () => {
    const result = await merge(
      "base",
      linear(
        [
          ["./spmbase", 1],
          ["./spmchat", 1],
        ],
        "tokenizer_source: base\n",
      ),
    );
    expect(result.plan.tokenizer!.files).toBeUndefined();
    expect(result.plan.tokenizer!.length).toBe(V);
    await expectCopied(result.outDir, "spmbase", [
      "tokenizer.model",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]);
    expect(await exists(join(result.outDir, "added_tokens.json"))).toBe(false);
    expect((await tensorBytes(result.outDir)).byteLength).toBe(V * ROW);
  });

  it("pad_to_multiple_of only adds rows: the files stay as they are", async () => {
    const result = await merge(
      "pad",
      linear([["./spmbase", 1]], "tokenizer:\n  source: base\n  pad_to_multiple_of: 48\n"),
    );
    await expectCopied(result.outDir, "spmbase", [
      "tokenizer.model",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]);
    const merged = await tensorBytes(result.outDir);
    expect(merged.byteLength).toBe(96 * ROW);
    expect(row(merged, V)).toEqual(row(merged, 95));
    expect((await json(join(result.outDir, "config.json"))).vocab_size).toBe(96);
  });

  it("tokenizer_source: <model> copies that model's files, added_tokens.json included", async () => {
    const result = await merge(
      "model",
      linear(
        [
          ["./spmbase", 0],
          ["./spmchat", 1],
        ],
        "tokenizer_source: ./spmchat\n",
      ),
    );
    await expectCopied(result.outDir, "spmchat", [
      "tokenizer.model",
      "tokenizer_config.json",
      "special_tokens_map.json",
      "added_tokens.json",
    ]);
    const spmchat = await tensorBytes(join(dir, "spmchat"));
    const merged = await tensorBytes(result.outDir);
    expect(merged).toEqual(spmchat);
  });

  it("tokens: new tokens become added tokens beside the unchanged tokenizer.model", async () => {
    const block = [
      "tokenizer:",
      "  source: base",
      "  tokens:",
      '    "<|im_start|>": {source: ./spmchat}',
      "    <new>: {source: {kind: zero}}",
      "",
    ].join("\n");
    const result = await merge(
      "tokens",
      linear(
        [
          ["./spmbase", 1],
          ["./spmchat", 0],
        ],
        block,
      ),
    );
    const out = result.outDir;
    await expectCopied(out, "spmbase", ["tokenizer.model", "special_tokens_map.json"]);
    const decoder = (await json(join(out, "tokenizer_config.json"))).added_tokens_decoder as Record<
      string,
      unknown
    >;
    expect(Object.keys(decoder)).toEqual(["0", "1", "2", String(V), String(V + 1)]);
    expect(decoder[V]).toEqual({ content: "<|im_start|>", ...PLAIN });
    expect(decoder[V + 1]).toEqual({ content: "<new>", ...PLAIN });
    expect(await json(join(out, "added_tokens.json"))).toEqual({ "<|im_start|>": V, "<new>": V + 1 });
    const spmchat = await tensorBytes(join(dir, "spmchat"));
    const merged = await tensorBytes(out);
    expect(row(merged, V)).toEqual(row(spmchat, V));
    expect(row(merged, V + 1)).toEqual(new Array(ROW).fill(0));
    expect([...(await outputVocab(out))].slice(-2)).toEqual([
      ["<|im_start|>", V],
      ["<new>", V + 1],
    ]);
  });
});

describe("refusals", () => {
  it("union when another source's own vocabulary is not the base's pieces", async () => {
    const odd = await writeAddedTokenModel(join(dir, "odd"), { deltaSeed: 103 });
    const path = join(odd, "tokenizer.json");
    const tokenizer = await json(path);
    const vocab = (tokenizer.model as { vocab: Record<string, number> }).vocab;
    delete vocab.tok10;
    vocab["▁hello"] = 10;
    await writeFile(path, JSON.stringify(tokenizer));
    const text = linear(
      [
        ["./spmbase", 1],
        ["./odd", 1],
      ],
      "tokenizer_source: union\n",
    );
    const error = await mergeError("odd-out", text);
    expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
    expect(error.message).toMatch(
      /^`tokenizer_source: union` cannot add \S*odd's vocabulary to \S*spmbase's sentencepiece tokenizer.model: they differ from id 10 \("tok10" in \S*spmbase, "▁hello" in \S*odd\), and 1 of \S*odd's tokens are not pieces of \S*spmbase$/,
    );
    expect(error.where).toMatchObject({ file: join(dir, "odd-out.yaml"), line: 7 });
    expect((error as { hint?: string }).hint).toMatch(
      /use a base that has tokenizer.json, or `tokenizer_source: base`/,
    );
    expect(await exists(join(dir, "odd-out"))).toBe(false);
    // The block form (whose source defaults to union) is named as written, at the block's line.
    const block = await mergeError("odd-block", text.replace("tokenizer_source: union", "tokenizer: {}"));
    expect(block.message).toMatch(/^`tokenizer.source: union` cannot add \S*odd's vocabulary/);
    expect(block.where).toMatchObject({ line: 7, column: 12 });
  });

  it("a base whose config gives fewer rows than its tokenizer.model has pieces", async () => {
    const small = await writeSentencePieceModel(join(dir, "small"));
    const config = await json(join(small, "config.json"));
    await writeFile(join(small, "config.json"), JSON.stringify({ ...config, vocab_size: V - 4 }));
    const error = await mergeError("small-out", linear([["./small", 1]], "tokenizer_source: base\n"));
    expect(isHubmergeError(error, "E_INCOMPATIBLE")).toBe(true);
    expect(error.message).toMatch(
      new RegExp(`tokenizer.model has ${V} pieces but its config gives embeddings for ${V - 4} tokens`),
    );
  });

  it("a source whose added-token files disagree, or whose tokenizer.model is damaged", async () => {
    const bad = await writeSentencePieceModel(join(dir, "bad"), { deltaSeed: 104, added: ["<x>"] });
    await writeFile(join(bad, "added_tokens.json"), JSON.stringify({ "<y>": V }));
    const body = linear(
      [
        ["./spmbase", 1],
        ["./bad", 1],
      ],
      "tokenizer_source: union\n",
    );
    const error = await mergeError("bad-out", body);
    expect(isHubmergeError(error, "E_IO")).toBe(true);
    expect(error.message).toBe(
      `the added tokens disagree: added_tokens.json gives id ${V} to "<y>", but tokenizer_config.json's \`added_tokens_decoder\` has "<x>" there`,
    );
    expect(error.where).toEqual({ model: expect.stringMatching(/bad$/) as unknown });
    const model = await readFile(join(bad, "tokenizer.model"));
    await writeFile(join(bad, "tokenizer.model"), model.subarray(0, model.length - 30));
    await rm(join(bad, "added_tokens.json"));
    const damaged = await mergeError("bad-out", body);
    expect(isHubmergeError(damaged, "E_IO")).toBe(true);
    expect(damaged.message).toMatch(/^tokenizer.model is not a readable sentencepiece model: premature EOF/);
    expect(await exists(join(dir, "bad-out"))).toBe(false);
  });
});

describe("from the Hub", () => {
  it("a union over Hub sources writes the same files as over the local folders", async () => {
    const hub = await startLocalHub({ dir: join(dir, "hub") });
    try {
      await seedHubModel(hub, "acme/spmbase", join(dir, "spmbase"));
      await seedHubModel(hub, "acme/chat", join(dir, "chat"));
      const body = linear(
        [
          ["acme/spmbase", 1],
          ["acme/chat", 0],
        ],
        "tokenizer_source: union\n",
      );
      const manifestPath = await writeManifest(dir, body, "hub.yaml");
      const result = await runMerge({
        manifestPath,
        out: join(dir, "hub-out"),
        backend: "reference",
        resolver: (ref) => HubSource.resolve(ref, { hub: { hubUrl: hub.url } }),
      });
      const local = join(dir, "union"); // the first test's merge of the same manifest, from folders
      for (const name of [
        "tokenizer.model",
        "tokenizer_config.json",
        "added_tokens.json",
        "model.safetensors",
      ]) {
        expect(
          (await bytesOf(join(result.outDir, name))).equals(await bytesOf(join(local, name))),
          name,
        ).toBe(true);
      }
    } finally {
      await hub.close();
    }
  });
});
