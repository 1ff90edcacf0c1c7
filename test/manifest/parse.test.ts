import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import { loadManifest, MAX_MANIFEST_BYTES, parseManifest } from "../../src/manifest/parse.js";
import { DESIGN_EXAMPLE, expectManifestError } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";
const parse = (text: string) => parseManifest(text, FILE);
const fails = (text: string, line: number, column: number, message?: RegExp) =>
  expectManifestError(() => parse(text), line, column, message);

/** A minimal valid manifest, followed by `extra` lines. */
const minimal = (extra = ""): string => `merge_method: linear\nmodels:\n  - model: org/a\n${extra}`;

describe("parseManifest: the DESIGN.md example", () => {
  const manifest = parse(DESIGN_EXAMPLE);

  it("has the expected structure", () => {
    expect(manifest.file).toBe(FILE);
    expect(manifest.dir).toBe("/work/cfg");
    expect(manifest.text).toBe(DESIGN_EXAMPLE);
    expect(manifest.mergeMethod).toBe("dare_ties");
    expect(manifest.baseModel).toEqual({
      raw: "mistralai/Mistral-7B-v0.1",
      kind: "hub",
      repo: "mistralai/Mistral-7B-v0.1",
    });
    expect(manifest.models).toEqual([
      {
        ref: { raw: "org/math-ft@4f1c2e9a", kind: "hub", repo: "org/math-ft", revision: "4f1c2e9a" },
        parameters: { weight: 0.5, density: 0.3 },
        pos: { line: 4, column: 5 },
      },
      {
        ref: { raw: "org/code-ft", kind: "hub", repo: "org/code-ft" },
        parameters: { density: 0.3, weight: [{ filter: "mlp", value: [0.3, 0.6] }, { value: 0.5 }] },
        pos: { line: 6, column: 5 },
      },
    ]);
    expect(manifest.slices).toBeUndefined();
    expect(manifest.parameters).toEqual({ normalize: false });
    expect(manifest.dtype).toBe("bfloat16");
    expect(manifest.outDtype).toBeUndefined();
    expect(manifest.hubmerge).toEqual({
      output: { repo: "me/math-code-7b", private: false, license: "apache-2.0", overwrite: false },
      seed: 1234n,
      dareRescale: "paper",
      allowIncompatible: false,
      card: { tags: [], includeManifest: true },
    });
    expect(manifest.warnings).toEqual([]);
  });

  it("locates any node and key", () => {
    expect(manifest.locate(["models", 1, "parameters", "density"])).toEqual({ line: 8, column: 16 });
    expect(manifest.locate(["models", 1, "parameters", "weight", 0, "value", 1])).toEqual({
      line: 9,
      column: 43,
    });
    expect(manifest.locate(["models", 1, "parameters", "weight", 1, "value"])).toEqual({
      line: 9,
      column: 58,
    });
    expect(manifest.locate(["hubmerge", "seed"])).toEqual({ line: 14, column: 9 });
    expect(manifest.locateKey(["hubmerge", "seed"])).toEqual({ line: 14, column: 3 });
    expect(manifest.locate(["models", 5])).toBeUndefined();
    expect(manifest.locate(["nothing"])).toBeUndefined();
  });
});

describe("parseManifest: defaults and optional keys", () => {
  it("applies the hubmerge defaults without a hubmerge block", () => {
    const manifest = parse(minimal());
    expect(manifest.hubmerge).toEqual({
      output: undefined,
      seed: 42n,
      dareRescale: "paper",
      allowIncompatible: false,
      card: { tags: [], includeManifest: true },
    });
    expect(manifest.parameters).toEqual({});
    expect(manifest.models?.[0]?.parameters).toEqual({});
  });

  it("reads every hubmerge key", () => {
    const manifest = parse(
      minimal(`hubmerge:
  output: {repo: me/out}
  seed: "7"
  dare_rescale: l1
  allow_incompatible: true
  card: {title: T, description: D, tags: [a, b], include_manifest: false}
`),
    );
    expect(manifest.hubmerge).toEqual({
      output: { repo: "me/out", private: false, overwrite: false },
      seed: 7n,
      dareRescale: "l1",
      allowIncompatible: true,
      card: { title: "T", description: "D", tags: ["a", "b"], includeManifest: false },
    });
  });

  it("treats empty blocks as defaults", () => {
    const manifest = parse(minimal("parameters:\nhubmerge:\n"));
    expect(manifest.parameters).toEqual({});
    expect(manifest.hubmerge.seed).toBe(42n);
  });

  it("reads tokenizer_source, chat_template and out_dtype", () => {
    const manifest = parse(minimal("tokenizer_source: union\nchat_template: chatml\nout_dtype: float16\n"));
    expect(manifest.tokenizerSource).toBe("union");
    expect(manifest.chatTemplate).toBe("chatml");
    expect(manifest.outDtype).toBe("float16");
    expect(parse(minimal("tokenizer_source: org/tok@v2\n")).tokenizerSource).toBe("org/tok@v2");
  });

  it("normalises dtype aliases and warns that mergekit would not take them", () => {
    const manifest = parse(minimal("dtype: bf16\nout_dtype: torch.float16\n"));
    expect(manifest.dtype).toBe("bfloat16");
    expect(manifest.outDtype).toBe("float16");
    expect(manifest.warnings).toEqual([
      { message: expect.stringMatching(/`dtype: bf16` means bfloat16/), pos: { line: 4, column: 8 } },
    ]);
    expect(parse(minimal("dtype: half\n")).dtype).toBe("float16");
    expect(parse(minimal("dtype: fp32\n")).dtype).toBe("float32");
  });

  it("reads YAML 1.1 booleans as mergekit's PyYAML does", () => {
    expect(parse(minimal("parameters: {normalize: yes}\n")).parameters).toEqual({ normalize: true });
  });

  it("reads a lone {filter, value} mapping as a one-entry list", () => {
    const manifest = parse(minimal("parameters:\n  weight: {filter: mlp, value: 0.5}\n"));
    expect(manifest.parameters).toEqual({ weight: [{ filter: "mlp", value: 0.5 }] });
    expect(manifest.locate(["parameters", "weight", 0, "value"])).toEqual({ line: 5, column: 32 });
  });

  it("reads slices with positions", () => {
    const manifest = parse(`merge_method: passthrough
slices:
  - sources:
      - model: org/a
        layer_range: [0, 16]
  - sources:
      - {model: org/b, layer_range: [8, 32], parameters: {scale: 0.5}}
    parameters: {scale: 1}
`);
    expect(manifest.models).toBeUndefined();
    expect(manifest.slices).toEqual([
      {
        sources: [
          {
            ref: { raw: "org/a", kind: "hub", repo: "org/a" },
            layerRange: [0, 16],
            parameters: {},
            pos: { line: 4, column: 9 },
          },
        ],
        parameters: {},
        pos: { line: 3, column: 5 },
      },
      {
        sources: [
          {
            ref: { raw: "org/b", kind: "hub", repo: "org/b" },
            layerRange: [8, 32],
            parameters: { scale: 0.5 },
            pos: { line: 7, column: 9 },
          },
        ],
        parameters: { scale: 1 },
        pos: { line: 6, column: 5 },
      },
    ]);
  });
});

describe("parseManifest: seed", () => {
  it("keeps integers beyond 2^53 exact", () => {
    expect(parse(minimal("hubmerge: {seed: 18446744073709551615}\n")).hubmerge.seed).toBe(
      18446744073709551615n,
    );
    expect(parse(minimal("hubmerge: {seed: 9007199254740993}\n")).hubmerge.seed).toBe(9007199254740993n);
    expect(parse(minimal("hubmerge: {seed: '18446744073709551615'}\n")).hubmerge.seed).toBe(
      18446744073709551615n,
    );
    expect(parse(minimal("hubmerge: {seed: 0}\n")).hubmerge.seed).toBe(0n);
  });

  it.each([
    ["18446744073709551616", /at most 2\^64/],
    ["-1", /not be negative/],
    ["1.5", /whole decimal number/],
    ["abc", /whole decimal number/],
    ["0x10", /whole decimal number/],
    ["[1]", /whole decimal number|whole number/],
  ])("rejects seed %s at its position", (seed, message) => {
    fails(minimal(`hubmerge:\n  seed: ${seed}\n`), 5, 9, message);
  });
});

describe("parseManifest: hostile manifests point at the offending node", () => {
  it("YAML syntax error", () => {
    // An unclosed `[` is reported where it opened (line 3), not where the parser noticed (line 4).
    fails("merge_method: ties\nmodels:\n  - model: [org/a\nparameters: {}\n", 3, 12, /YAML syntax error/);
    fails("merge_method: ties\nmerge_method: linear\n", 2, 1, /Map keys must be unique/);
    fails('merge_method: "ties\n', 2, 1, /YAML syntax error/);
  });

  it("top level is not a mapping", () => {
    fails("- model: org/a\n", 1, 1, /a list/);
    fails("", 1, 1, /empty/);
    fails("# nothing\n", 1, 1, /empty/);
    fails("just text\n", 1, 1, /single value/);
  });

  it("missing merge_method", () => {
    fails("models:\n  - model: org/a\n", 1, 1, /The manifest has no `merge_method`/);
  });

  it("merge_method of the wrong type", () => {
    fails("merge_method: [ties]\nmodels:\n  - model: org/a\n", 1, 15, /`merge_method` must be a method name/);
  });

  it("both models and slices (at the second)", () => {
    fails(
      minimal("slices:\n  - sources: [{model: org/a, layer_range: [0, 2]}]\n"),
      4,
      1,
      /both `models` and `slices`/,
    );
    fails(
      "merge_method: linear\nslices:\n  - sources: [{model: org/a, layer_range: [0, 2]}]\nmodels:\n  - model: org/a\n",
      4,
      1,
      /`slices` comes first/,
    );
  });

  it("neither models nor slices", () => {
    fails("merge_method: linear\nbase_model: org/a\n", 1, 1, /neither `models` nor `slices`/);
  });

  it("empty models", () => {
    fails("merge_method: linear\nmodels: []\n", 2, 9, /`models` is empty/);
    fails("merge_method: linear\nmodels:\n", 2, 1, /`models` is empty/);
  });

  it("an entry without model", () => {
    fails(
      "merge_method: linear\nmodels:\n  - model: org/a\n  - parameters: {weight: 1}\n",
      4,
      5,
      /`models\[1\]` has no `model`/,
    );
  });

  it("an entry that is not a mapping", () => {
    fails("merge_method: linear\nmodels:\n  - org/a\n", 3, 5, /`models\[0\]` must be a mapping/);
  });

  it("a bad model reference", () => {
    fails("merge_method: linear\nmodels:\n  - model: org/a--b\n", 3, 12, /not a Hub repo id/);
    fails("merge_method: linear\nmodels:\n  - model: 42\n", 3, 12, /must be a model reference/);
    fails("merge_method: ties\nbase_model: a/b/c\nmodels:\n  - model: org/a\n", 2, 13, /more than one `\/`/);
  });

  it("model+lora with a missing half", () => {
    fails(
      "merge_method: linear\nmodels:\n  - model: org/a\n  - model: org/b+\n",
      4,
      12,
      /must be `model\+adapter`: one model and one LoRA adapter/,
    );
  });

  it("parameters that are not a mapping", () => {
    fails(minimal("parameters: [1, 2]\n"), 4, 13, /`parameters` must be a mapping of parameter names/);
  });

  it("a parameter value that is neither scalar, gradient nor filter list", () => {
    fails(minimal("parameters:\n  weight:\n"), 5, 3, /`parameters.weight` has no value/);
    fails(minimal("parameters:\n  weight: [0.5, [1]]\n"), 5, 17, /gradient anchor that is a list/);
  });

  it("a gradient with no anchors or non-number anchors", () => {
    fails(minimal("parameters: {density: []}\n"), 4, 23, /empty gradient/);
    fails(
      minimal('parameters: {density: [0.2, "0.5"]}\n'),
      4,
      29,
      /anchor that is string "0.5", not a number/,
    );
    fails(minimal("parameters: {density: [0.2, {value: 1}]}\n"), 4, 29, /anchor that is a mapping/);
  });

  it("a filter entry without value, or with a bad filter or value", () => {
    fails(
      "merge_method: ties\nmodels:\n  - model: org/a\n    parameters:\n      weight:\n        - filter: mlp\n          value: 0.5\n        - filter: attn\n",
      8,
      11,
      /`models\[0\].parameters.weight` has a filter entry without a `value`/,
    );
    fails(minimal("parameters: {weight: [{filter: 3, value: 1}]}\n"), 4, 32, /`filter` that is number 3/);
    fails(minimal("parameters: {weight: [{value: {a: 1}}]}\n"), 4, 31, /filter `value` that is a mapping/);
    fails(minimal("parameters: {weight: [{value: []}]}\n"), 4, 31, /empty gradient/);
  });

  it("a misspelt filter-entry key", () => {
    fails(
      minimal("parameters: {weight: [{filter: mlp, vaule: 1}]}\n"),
      4,
      37,
      /`vaule`.*did you mean `value`/,
    );
  });

  it("bad layer_range", () => {
    const slices = (range: string): string =>
      `merge_method: passthrough\nslices:\n  - sources:\n      - model: org/a\n        layer_range: ${range}\n`;
    fails(slices("[4, 2]"), 5, 22, /end is exclusive/);
    fails(slices("[3, 3]"), 5, 22, /end is exclusive/);
    fails(slices("[-1, 4]"), 5, 23, /layer index/);
    fails(slices("[0, 2.5]"), 5, 26, /layer index/);
    fails(slices("[0, 4, 8]"), 5, 22, /two layer indices/);
    fails(slices("8"), 5, 22, /two layer indices/);
    fails(
      "merge_method: passthrough\nslices:\n  - sources:\n      - model: org/a\n",
      4,
      9,
      /has no `layer_range`/,
    );
  });

  it("empty slices and sources", () => {
    fails("merge_method: passthrough\nslices: []\n", 2, 9, /`slices` is empty/);
    fails("merge_method: passthrough\nslices:\n  - sources: []\n", 3, 14, /`slices\[0\].sources` is empty/);
  });

  it("an empty `modules`", () => {
    fails(minimal("modules: {}\n"), 4, 10, /`modules` is empty/);
  });

  it("unknown top-level keys are warnings; misspelt known keys are errors", () => {
    const manifest = parse(minimal("comment: made by me\n"));
    expect(manifest.warnings).toEqual([
      { message: "Unknown key `comment` at the top level is ignored.", pos: { line: 4, column: 1 } },
    ]);
    fails(
      minimal("parameter: {weight: 1}\n"),
      4,
      1,
      /`parameter` at the top level; did you mean `parameters`/,
    );
    fails(minimal("base_modle: org/b\n"), 4, 1, /did you mean `base_model`/);
  });

  it("misspelt keys in a model entry are errors", () => {
    fails(
      "merge_method: linear\nmodels:\n  - model: org/a\n    paramters: {weight: 1}\n",
      4,
      5,
      /did you mean `parameters`/,
    );
  });

  it("unknown hubmerge keys, with a suggestion", () => {
    const error = fails(
      minimal("hubmerge:\n  dare_rescal: l1\n"),
      5,
      3,
      /Unknown key `dare_rescal` in `hubmerge`; did you mean `dare_rescale`\?/,
    );
    expect(error.hint).toBe("Rename it to `dare_rescale`.");
    fails(minimal("hubmerge:\n  output: {repo: me/x, privat: true}\n"), 5, 24, /did you mean `private`/);
    fails(minimal("hubmerge:\n  card:\n    tag: [x]\n"), 6, 5, /did you mean `tags`/);
    const far = fails(
      minimal("hubmerge:\n  something: 1\n"),
      5,
      3,
      /Unknown key `something` in `hubmerge`\.$/,
    );
    expect(far.hint).toMatch(/`output`, `seed`, `dare_rescale`, `allow_incompatible` or `card`/);
  });

  it("a bad output repo", () => {
    fails(minimal("hubmerge:\n  output: {repo: just-a-name}\n"), 5, 18, /needs an owner/);
    fails(minimal("hubmerge:\n  output: {repo: me/x@main}\n"), 5, 18, /not a Hub repo id/);
    fails(minimal("hubmerge:\n  output: {private: true}\n"), 5, 11, /`hubmerge.output` has no `repo`/);
  });

  it("dare_rescale and other hubmerge values of the wrong kind", () => {
    fails(minimal("hubmerge:\n  dare_rescale: l2\n"), 5, 17, /must be `paper` or `l1`, got string "l2"/);
    fails(minimal("hubmerge:\n  allow_incompatible: maybe\n"), 5, 23, /must be `true` or `false`/);
    fails(
      minimal("hubmerge:\n  card: {tags: mlp}\n"),
      5,
      16,
      /`hubmerge.card.tags` must be a list of strings/,
    );
  });

  it("a bad dtype or tokenizer_source", () => {
    fails(minimal("dtype: int8\n"), 4, 8, /`dtype` is "int8", not a dtype/);
    fails(
      minimal("tokenizer_source: org/a+lora+x\n"),
      4,
      19,
      /is neither `base`, `union` nor a usable model reference: .*LoRA/,
    );
  });

  it("a manifest over the size limit", () => {
    fails(minimal(`# ${"x".repeat(MAX_MANIFEST_BYTES)}\n`), 1, 1, /limit/);
  });

  it("alias bombs fail instead of expanding", () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
`;
    fails(minimal(bomb), 1, 1, /cannot be read/);
  });
});

describe("loadManifest", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hubmerge-manifest-"));
    await mkdir(join(dir, "models", "base"), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a file and resolves local models against its folder", async () => {
    const file = join(dir, "merge.yaml");
    await writeFile(file, "merge_method: linear\nmodels:\n  - model: models/base\n  - model: ./other\n");
    const manifest = await loadManifest(file);
    expect(manifest.dir).toBe(dir);
    expect(manifest.models?.map((m) => m.ref)).toEqual([
      { raw: "models/base", kind: "local", path: join(dir, "models/base") },
      { raw: "./other", kind: "local", path: join(dir, "other") },
    ]);
  });

  it("reports a missing file as E_MANIFEST with a hint", async () => {
    const file = join(dir, "nope.yaml");
    const error = await loadManifest(file).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
    if (isHubmergeError(error)) {
      expect(error.message).toBe(`Manifest not found: ${file}`);
      expect(error.where.file).toBe(file);
      expect(error.hint).toMatch(/Check the path/);
    }
  });

  it("reports a folder as unreadable", async () => {
    const error = await loadManifest(dir).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
  });
});
