/**
 * The last two keys of a mergekit slice: `base_model` (parsed, checked like the top-level one,
 * read as the slice's base by validation) and `residual_weight` (a number mergekit never uses:
 * accepted with a warning).
 */
import { describe, expect, it } from "vitest";
import { parseMergeGraph, withIntermediates } from "../../src/manifest/multi-doc.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { referencedModels } from "../../src/manifest/referenced-models.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { expectManifestError, fakeLookup } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";
const parse = (text: string) => parseManifest(text, FILE);
function validate(text: string) {
  const manifest = parse(text);
  validateManifest(manifest, fakeLookup);
  return manifest;
}

/** Two ties slices; the second's own keys are `extra` (indented as slice keys). */
const twoSlices = (extra: string, top = "base_model: org/base\n"): string => `merge_method: ties
${top}slices:
  - sources:
      - {model: org/base, layer_range: [0, 2]}
      - {model: org/a, layer_range: [0, 2], parameters: {weight: 1}}
  - ${extra}
    sources:
      - {model: org/ft, layer_range: [2, 4]}
      - {model: org/a, layer_range: [2, 4], parameters: {weight: 1}}
`;

describe("a slice's base_model: parsing", () => {
  it("is parsed as a model reference, with its position", () => {
    const manifest = parse(twoSlices("base_model: org/ft@v2"));
    expect(manifest.slices![0]!.baseModel).toBeUndefined();
    expect(manifest.slices![1]!.baseModel).toEqual({
      raw: "org/ft@v2",
      kind: "hub",
      repo: "org/ft",
      revision: "v2",
    });
    expect(manifest.slices![1]!.pos).toEqual({ line: 7, column: 5 });
    expect(manifest.locate(["slices", 1, "base_model"])).toEqual({ line: 7, column: 17 });
    expect(manifest.warnings).toEqual([]);
  });

  it("resolves a relative local path against the manifest's folder", () => {
    const manifest = parse(twoSlices("base_model: ./ft"));
    expect(manifest.slices![1]!.baseModel).toMatchObject({ kind: "local", path: "/work/cfg/ft" });
  });

  it("refuses what the top-level base_model refuses, at the slice's key", () => {
    expectManifestError(() => parse(twoSlices("base_model: a/b/c")), 7, 17, /more than one `\/`/);
    expectManifestError(() => parse(twoSlices("base_model: /abs/ft")), 7, 17, /absolute/i);
    expectManifestError(() => parse(twoSlices("base_model: 3")), 7, 17);
  });

  it("is read by referencedModels, even when no source names it", () => {
    const manifest = parse(`merge_method: linear
slices:
  - base_model: org/other
    sources: [{model: org/a, layer_range: [0, 2]}]
`);
    expect(referencedModels(manifest).map((r) => r.raw)).toEqual(["org/a", "org/other"]);
  });

  it("follows an earlier merge of a multi-document file", () => {
    const graph = parseMergeGraph(
      `name: first
merge_method: linear
models: [{model: org/a, parameters: {weight: 1}}]
---
merge_method: ties
base_model: org/base
slices:
  - base_model: first
    sources:
      - {model: first, layer_range: [0, 2]}
      - {model: org/a, layer_range: [0, 2], parameters: {weight: 1}}
`,
      FILE,
    )!;
    const step = graph.steps[1]!;
    expect(step.uses).toEqual(["first"]);
    const made = new Map([["first", { raw: "/tmp/first", kind: "local" as const, path: "/tmp/first" }]]);
    const swapped = withIntermediates(step.manifest, made);
    expect(swapped.slices![0]!.baseModel).toMatchObject({ kind: "local", path: "/tmp/first" });
  });
});

describe("a slice's base_model: validation", () => {
  it("is the slice's base: its model needs no weight there, and the top-level base does", () => {
    expect(validate(twoSlices("base_model: org/ft")).warnings).toEqual([]);
    // Without its own base, the second slice's org/ft is a model to merge, with no weight.
    expectManifestError(
      () => validate(twoSlices("parameters: {}")),
      7,
      5,
      /no source from the base model org\/base/,
    );
  });

  it("must be among the slice's sources, for a method that needs a base", () => {
    const error = expectManifestError(
      () => validate(twoSlices("base_model: org/other")),
      7,
      17,
      /no source from this slice's base model org\/other, which ties needs/,
    );
    expect(error.hint).toMatch(/this slice's base model as a source/);
  });

  it("replaces a missing top-level base_model when every slice has one", () => {
    const text = twoSlices("base_model: org/ft", "").replace(
      "  - sources:",
      "  - base_model: org/base\n    sources:",
    );
    expect(validate(text).warnings).toEqual([]);
    const error = expectManifestError(
      () => validate(twoSlices("base_model: org/ft", "")),
      1,
      15,
      /ties needs a `base_model`, and the manifest has none/,
    );
    expect(error.hint).toMatch(/give every slice its own `base_model`/);
  });

  it("is warned about for a method without a base model", () => {
    const manifest = validate(`merge_method: linear
slices:
  - base_model: org/a
    sources: [{model: org/a, layer_range: [0, 2], parameters: {weight: 1}}]
`);
    expect(manifest.warnings).toEqual([
      {
        message: "linear has no base model, so this slice's `base_model` changes nothing.",
        pos: { line: 3, column: 5 },
      },
    ]);
  });
});

describe("a slice's residual_weight", () => {
  it("is accepted with a warning that it has no effect, as in mergekit", () => {
    const manifest = parse(twoSlices("residual_weight: 0.5"));
    expect(manifest.warnings).toEqual([
      {
        message:
          "`residual_weight` in `slices[1]` has no effect (mergekit declares it but never uses it either).",
        pos: { line: 7, column: 5 },
      },
    ]);
    expect(parse(twoSlices("residual_weight:")).warnings).toHaveLength(1);
  });

  it("must be a number, as mergekit's Optional[float]", () => {
    expectManifestError(() => parse(twoSlices("residual_weight: lots")), 7, 22, /residual_weight/);
    expectManifestError(() => parse(twoSlices("residual_weight: [0.5]")), 7, 22, /residual_weight/);
  });

  it("is warned about inside a module's slices too", () => {
    const manifest = parse(`merge_method: passthrough
modules:
  text_decoder:
    slices:
      - sources: [{model: org/a, layer_range: [0, 2]}]
        residual_weight: 1
`);
    expect(manifest.warnings).toEqual([
      {
        message:
          "`residual_weight` in `modules.text_decoder.slices[0]` has no effect (mergekit declares it but never uses it either).",
        pos: { line: 6, column: 9 },
      },
    ]);
  });
});
