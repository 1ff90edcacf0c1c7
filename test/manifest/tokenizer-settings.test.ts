import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/parse.js";
import { referencedModels } from "../../src/manifest/referenced-models.js";
import { expectManifestError } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";
const parse = (text: string) => parseManifest(text, FILE);
const fails = (text: string, line: number, column: number, message?: RegExp) =>
  expectManifestError(() => parse(text), line, column, message);
const minimal = (extra = ""): string =>
  `merge_method: linear\nmodels:\n  - model: org/a\n  - model: org/b\n${extra}`;

describe("tokenizer settings", () => {
  it("tokenizer_source alone: that source, no token settings", () => {
    expect(parse(minimal("tokenizer_source: union\n")).tokenizer).toEqual({
      source: "union",
      tokens: [],
      key: "tokenizer_source",
    });
    const model = parse(minimal("tokenizer_source: org/b\n")).tokenizer!;
    expect(model.source).toMatchObject({ kind: "hub", repo: "org/b" });
    expect(parse(minimal()).tokenizer).toBeUndefined();
  });

  it("the tokenizer block: source defaults to union; tokens keep their order; pad_to_multiple_of", () => {
    const manifest = parse(
      minimal(
        [
          "tokenizer:",
          "  tokens:",
          '    "<|im_start|>": {source: org/b, force: true}',
          "    <x>: {source: {kind: model_token, model: org/a, token_id: 3}}",
          '    <y>: {source: {kind: model_token, model: org/a, token: "<s>"}}',
          "    <z>: {source: {kind: zero}}",
          "  pad_to_multiple_of: 8",
          "",
        ].join("\n"),
      ),
    );
    const tokenizer = manifest.tokenizer!;
    expect(tokenizer.source).toBe("union");
    expect(tokenizer.padToMultipleOf).toBe(8);
    expect(tokenizer.tokens.map(([token]) => token)).toEqual(["<|im_start|>", "<x>", "<y>", "<z>"]);
    expect(tokenizer.tokens[0]![1]).toMatchObject({
      source: { kind: "model", model: { repo: "org/b" } },
      force: true,
    });
    expect(tokenizer.tokens[1]![1]).toMatchObject({
      source: { kind: "model_token", tokenId: 3 },
      force: false,
    });
    expect(tokenizer.tokens[2]![1]).toMatchObject({ source: { kind: "model_token", token: "<s>" } });
    expect(tokenizer.tokens[3]![1]).toEqual({ source: { kind: "zero" }, force: false });
  });

  it("union is no longer refused; a tokenizer-only model is read", () => {
    const refs = referencedModels(parse(minimal("tokenizer: {source: org/tok}\n")));
    expect(refs.map((r) => r.raw)).toEqual(["org/a", "org/b", "org/tok"]);
    expect(referencedModels(parse(minimal("tokenizer_source: union\n"))).map((r) => r.raw)).toEqual([
      "org/a",
      "org/b",
    ]);
  });

  it("refuses both forms at once, at the block", () => {
    fails(
      minimal("tokenizer_source: base\ntokenizer: {source: union}\n"),
      6,
      1,
      /both `tokenizer_source` and a `tokenizer` block/,
    );
  });

  it("refuses a token without a source, or with both token and token_id", () => {
    fails(
      minimal("tokenizer:\n  tokens:\n    <x>: {force: true}\n"),
      7,
      10,
      /`tokenizer.tokens.<x>.source` is missing/,
    );
    fails(
      minimal(
        "tokenizer:\n  tokens:\n    <x>: {source: {kind: model_token, model: org/a, token: a, token_id: 1}}\n",
      ),
      7,
      19,
      /needs exactly one of `token` and `token_id`/,
    );
    fails(
      minimal("tokenizer:\n  tokens:\n    <x>: {source: {kind: one}}\n"),
      7,
      19,
      /neither a model reference/,
    );
  });

  it("a misspelt key in the block or a token's settings is an error with a suggestion", () => {
    fails(minimal("tokenizer:\n  sorce: union\n"), 6, 3, /Unknown key `sorce`.*did you mean `source`/);
    fails(
      minimal("tokenizer:\n  tokens:\n    <x>: {source: org/a, forse: true}\n"),
      7,
      26,
      /did you mean `force`/,
    );
  });

  it("pad_to_multiple_of must be a whole number of at least 1", () => {
    fails(minimal("tokenizer:\n  pad_to_multiple_of: 0\n"), 6, 23, /is 0, not a whole number ≥ 1/);
    fails(minimal("tokenizer:\n  pad_to_multiple_of: 2.5\n"), 6, 23, /not a whole number/);
  });
});
