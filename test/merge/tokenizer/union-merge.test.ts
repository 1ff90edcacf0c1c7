import { mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMerge } from "../../../src/pipeline/index.js";
import { TEST_LLAMA, writeManifest } from "../../support/models.js";
import { tensorBytes } from "../../support/tensor-bytes.js";
import { writeAddedTokenModel } from "../../support/tokenizer-models.js";

const H = TEST_LLAMA.hiddenSize;
const V = TEST_LLAMA.vocabSize;
const ROW = H * 2; // BF16

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-tokenizer-"));
  await writeAddedTokenModel(join(dir, "base"), {});
  await writeAddedTokenModel(join(dir, "chat"), { deltaSeed: 101, added: ["<|im_start|>", "<|im_end|>"] });
  await writeAddedTokenModel(join(dir, "tool"), { deltaSeed: 102, added: ["<|im_end|>", "<tool>"] });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const row = (bytes: Uint8Array, i: number) => [...bytes.subarray(i * ROW, (i + 1) * ROW)];

async function merge(name: string, body: string) {
  const manifest = await writeManifest(dir, body, `${name}.yaml`);
  return runMerge({ manifestPath: manifest, out: join(dir, name), backend: "reference" });
}

async function loadTokenizer(out: string): Promise<Tokenizer> {
  const json: unknown = JSON.parse(await readFile(join(out, "tokenizer.json"), "utf8"));
  const config: unknown = JSON.parse(await readFile(join(out, "tokenizer_config.json"), "utf8"));
  return new Tokenizer(json as object, config as object);
}

async function configOf(out: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(out, "config.json"), "utf8")) as Record<string, unknown>;
}

const linear = (weights: [string, number][], tail: string) =>
  "merge_method: linear\nmodels:\n" +
  weights.map(([model, w]) => `  - model: ${model}\n    parameters: {weight: ${w}}\n`).join("") +
  tail;

describe("tokenizer_source: union over sources that differ by added tokens", () => {
  it("appends each source's added tokens once; every source token maps to its output id", async () => {
    const result = await merge(
      "union",
      linear(
        [
          ["./chat", 1],
          ["./tool", 0],
        ],
        "tokenizer_source: union\n",
      ),
    );
    const tokenizer = await loadTokenizer(result.outDir);
    const expected: [string, number][] = [
      ["<|im_start|>", V],
      ["<|im_end|>", V + 1],
      ["<tool>", V + 2],
      ["tok5", 5],
      ["</s>", 2],
    ];
    for (const [token, id] of expected) expect(tokenizer.token_to_id(token)).toBe(id);
    // Every token of every source, as the output vocabulary numbers it.
    for (const source of ["chat", "tool"]) {
      const json = JSON.parse(await readFile(join(dir, source, "tokenizer.json"), "utf8")) as {
        model: { vocab: Record<string, number> };
        added_tokens: { content: string }[];
      };
      const tokens = [...Object.keys(json.model.vocab), ...json.added_tokens.map((t) => t.content)];
      for (const token of tokens) {
        expect(tokenizer.token_to_id(token)).toBe(result.plan.tokenizer!.outputIds.get(token));
      }
    }
    const ids = tokenizer.encode("<|im_start|> tok5 <|im_end|> <tool>", { add_special_tokens: false }).ids;
    expect(ids).toEqual([V, 5, V + 1, V + 2]);
    expect((await configOf(result.outDir)).vocab_size).toBe(V + 3);
  });

  it("puts every source's embedding rows where the output vocabulary puts its tokens (exact bytes)", async () => {
    // Weight 1 on `tool` alone: the output is tool's re-indexed rows, bit for bit.
    const result = await merge(
      "rows",
      linear(
        [
          ["./chat", 0],
          ["./tool", 1],
        ],
        "tokenizer_source: union\n",
      ),
    );
    const chat = await tensorBytes(join(dir, "chat"), "model.embed_tokens.weight");
    const tool = await tensorBytes(join(dir, "tool"), "model.embed_tokens.weight");
    const out = await tensorBytes(result.outDir, "model.embed_tokens.weight");
    expect(out.byteLength).toBe((V + 3) * ROW);
    for (const i of [0, 5, V - 1]) expect(row(out, i)).toEqual(row(tool, i));
    // <|im_start|>: only chat has it, so tool takes chat's row; <|im_end|> is tool's row V, <tool> V+1.
    expect(row(out, V)).toEqual(row(chat, V));
    expect(row(out, V + 1)).toEqual(row(tool, V));
    expect(row(out, V + 2)).toEqual(row(tool, V + 1));
    const head = await tensorBytes(result.outDir, "lm_head.weight");
    const toolHead = await tensorBytes(join(dir, "tool"), "lm_head.weight");
    expect(row(head, V + 1)).toEqual(row(toolHead, V));
  });

  it("tokenizer: block with source base, tokens: overrides and pad_to_multiple_of", async () => {
    const block = [
      "tokenizer:",
      "  source: base",
      "  tokens:",
      '    "<|im_start|>": {source: ./chat}',
      '    tok7: {source: {kind: model_token, model: ./chat, token: "<|im_end|>"}, force: true}',
      "    <new>: {source: {kind: zero}}",
      "  pad_to_multiple_of: 16",
      "",
    ].join("\n");
    const result = await merge(
      "block",
      linear(
        [
          ["./base", 1],
          ["./chat", 0],
        ],
        block,
      ),
    );
    const base = await tensorBytes(join(dir, "base"), "model.embed_tokens.weight");
    const chat = await tensorBytes(join(dir, "chat"), "model.embed_tokens.weight");
    const out = await tensorBytes(result.outDir, "model.embed_tokens.weight");
    // The base's 64 tokens, then <|im_start|> and <new> appended (tok7 is the base's), padded to 80.
    expect(out.byteLength).toBe(80 * ROW);
    expect(row(out, 3)).toEqual(row(base, 3));
    expect(row(out, V)).toEqual(row(chat, V));
    expect(row(out, 7)).toEqual(row(chat, V + 1)); // forced: chat's <|im_end|> row, in the base too
    expect(row(out, V + 1)).toEqual(new Array(ROW).fill(0));
    expect(row(out, V + 2)).toEqual(row(out, 79)); // padding rows: one mean row
    expect(row(out, V + 2)).not.toEqual(new Array(ROW).fill(0));
    const tokenizer = await loadTokenizer(result.outDir);
    expect(tokenizer.token_to_id("<|im_start|>")).toBe(V);
    expect(tokenizer.token_to_id("<new>")).toBe(V + 1);
    expect(tokenizer.token_to_id("<|im_end|>")).toBeUndefined();
    expect((await configOf(result.outDir)).vocab_size).toBe(80);
  });

  it("one vocabulary everywhere: tokenizer_source: base re-indexes nothing", async () => {
    const result = await merge("same", linear([["./base", 1]], "tokenizer_source: base\n"));
    expect(result.plan.recipes.some((r) => r.rows !== undefined)).toBe(false);
    expect(result.plan.tokenizer!.files).toBeUndefined();
    const copied = await readFile(join(result.outDir, "tokenizer.json"));
    expect(copied.equals(await readFile(join(dir, "base", "tokenizer.json")))).toBe(true);
  });

  it("refuses, at plan time, a token source that is not merged into the embeddings", async () => {
    const body = linear([["./base", 1]], "tokenizer:\n  tokens:\n    <x>: {source: ./chat}\n");
    await expect(merge("bad", body)).rejects.toThrow(/not one of the models merged/);
  });
});

describe("examples/union-tokenizer/merge.yaml", () => {
  it("runs against models with those names, and loads with @huggingface/tokenizers", async () => {
    const text = await readFile(
      new URL("../../../examples/union-tokenizer/merge.yaml", import.meta.url),
      "utf8",
    );
    const root = join(dir, "example");
    await writeAddedTokenModel(join(root, "models", "base"), {});
    await writeAddedTokenModel(join(root, "models", "chat"), {
      deltaSeed: 101,
      added: ["<|im_start|>", "<|im_end|>"],
    });
    await writeAddedTokenModel(join(root, "models", "tool"), {
      deltaSeed: 102,
      added: ["<|im_end|>", "<tool>"],
    });
    const manifest = await writeManifest(root, text);
    const result = await runMerge({ manifestPath: manifest, out: join(root, "out") });
    const tokenizer = await loadTokenizer(result.outDir);
    expect(
      ["<|im_start|>", "<|im_end|>", "<tool>", "<|tool_result|>"].map((t) => tokenizer.token_to_id(t)),
    ).toEqual([V, V + 1, V + 2, V + 3]);
    expect((await configOf(result.outDir)).vocab_size).toBe(128);
  });
});

describe("tokenizer settings with slices", () => {
  it("passthrough: embeddings from the first slice's model, lm_head from the last's, each re-indexed", async () => {
    const body = [
      "merge_method: passthrough",
      "slices:",
      "  - sources: [{model: ./chat, layer_range: [0, 2]}]",
      "  - sources: [{model: ./tool, layer_range: [1, 3]}]",
      "tokenizer_source: union",
      "",
    ].join("\n");
    const result = await merge("slices", body);
    const chat = await tensorBytes(join(dir, "chat"), "model.embed_tokens.weight");
    const toolHead = await tensorBytes(join(dir, "tool"), "lm_head.weight");
    const embed = await tensorBytes(result.outDir, "model.embed_tokens.weight");
    const head = await tensorBytes(result.outDir, "lm_head.weight");
    const zero = new Array(ROW).fill(0);
    expect(row(embed, V)).toEqual(row(chat, V)); // <|im_start|>
    expect(row(embed, V + 2)).toEqual(zero); // <tool>: no model merged here has it
    expect(row(head, V)).toEqual(zero); // <|im_start|>: tool lacks it
    expect(row(head, V + 1)).toEqual(row(toolHead, V)); // <|im_end|>
    expect((await configOf(result.outDir)).vocab_size).toBe(V + 3);
  });
});

describe("tokenizer settings with a slice's own base_model", () => {
  it("fills the rows a source lacks from the slice's base, as a plain merge on that base does", async () => {
    const src = (model: string, range: string, weight?: number) =>
      `      - {model: ${model}, layer_range: ${range}${weight === undefined ? "" : `, parameters: {weight: ${weight}}`}}`;
    const sliced = [
      "merge_method: task_arithmetic",
      "base_model: ./base",
      "slices:",
      "  - sources:",
      src("./base", "[0, 2]"),
      src("./chat", "[0, 2]", 0.5),
      src("./tool", "[0, 2]", 0.5),
      "  - base_model: ./chat",
      "    sources:",
      src("./chat", "[2, 3]"),
      src("./tool", "[2, 3]", 0.5),
      src("./base", "[2, 3]", 0.5),
      "tokenizer_source: union",
      "",
    ].join("\n");
    // lm_head follows the last slice, whose base is ./chat: the same as a whole-model merge on it.
    const plain = [
      "merge_method: task_arithmetic",
      "base_model: ./chat",
      "models:",
      "  - {model: ./tool, parameters: {weight: 0.5}}",
      "  - {model: ./base, parameters: {weight: 0.5}}",
      "tokenizer_source: union",
      "",
    ].join("\n");
    const slicedOut = (await merge("slice-base-rows", sliced)).outDir;
    const plainOut = (await merge("slice-base-plain", plain)).outDir;
    const head = await tensorBytes(slicedOut, "lm_head.weight");
    const expected = await tensorBytes(plainOut, "lm_head.weight");
    // <|im_end|> (V + 1): chat and tool have it, base lacks it; base's row is chat's, not the mean.
    expect(row(head, V + 1)).toEqual(row(expected, V + 1));
    expect([...head]).toEqual([...expected]);
  });
});

describe("sources without tokenizer.json or tokenizer.model", () => {
  it("a merged source without one shares the base's vocabulary, with a warning", async () => {
    const notok = await writeAddedTokenModel(join(dir, "notok"), { deltaSeed: 103 });
    await unlink(join(notok, "tokenizer.json"));
    const result = await merge(
      "notok-out",
      linear(
        [
          ["./base", 1],
          ["./notok", 1],
        ],
        "tokenizer_source: union\n",
      ),
    );
    expect(result.record.warnings).toContainEqual(
      expect.stringMatching(/notok has neither tokenizer.json nor tokenizer.model/),
    );
    expect(result.plan.tokenizer!.length).toBe(V);
  });

  it("the model the output tokenizer comes from must have one", async () => {
    await expect(
      merge("notok-source", linear([["./base", 1]], "tokenizer_source: ./notok\n")),
    ).rejects.toThrow(
      /has neither tokenizer.json nor tokenizer.model, which `tokenizer_source` builds the output from/,
    );
  });
});
