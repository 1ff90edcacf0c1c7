/**
 * `modules:` in the manifest: parsing (file order, positions), mergekit's exactly-one rules with
 * their wording, key and parameter checks inside a module, and every consumer of the models list.
 */
import { describe, expect, it } from "vitest";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import { parseMergeGraph, withIntermediates } from "../../src/manifest/multi-doc.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { referencedModels } from "../../src/manifest/referenced-models.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { parseModelRef } from "../../src/model-ref.js";
import { expectManifestError } from "../manifest/helpers.js";

const FILE = "/work/cfg/vlm.yaml";

function read(text: string) {
  const manifest = parseManifest(text, FILE);
  validateManifest(manifest, methodRegistry);
  return manifest;
}

const fails = (text: string, line: number, column: number, message?: RegExp) =>
  expectManifestError(() => read(text), line, column, message);

const VLM = `merge_method: slerp
base_model: org/base
modules:
  vision_tower:
    models:
      - model: org/base
      - model: org/vision-ft
    parameters: {t: 0.8}
  text_decoder:
    slices:
      - sources:
          - {model: org/base, layer_range: [0, 4]}
          - {model: org/chat-ft, layer_range: [0, 4]}
        parameters: {t: 0.3}
  multi_modal_projector:
    models: [{model: org/base}, {model: org/vision-ft}]
parameters: {t: 0.5}
`;

describe("parsing modules", () => {
  it("keeps the modules in file order with their models, slices, parameters and positions", () => {
    const manifest = read(VLM);
    expect(manifest.models).toBeUndefined();
    expect(manifest.slices).toBeUndefined();
    const modules = manifest.modules!;
    expect(modules.map((m) => m.name)).toEqual(["vision_tower", "text_decoder", "multi_modal_projector"]);
    expect(modules.map((m) => m.pos.line)).toEqual([4, 9, 15]);
    expect(modules[0]!.parameters).toEqual({ t: 0.8 });
    expect(modules[0]!.models!.map((m) => m.ref.raw)).toEqual(["org/base", "org/vision-ft"]);
    expect(modules[1]!.slices![0]!.sources.map((s) => s.layerRange)).toEqual([
      [0, 4],
      [0, 4],
    ]);
    expect(modules[1]!.slices![0]!.sources[1]!.pos).toEqual({ line: 13, column: 13 });
    expect(modules[2]!.parameters).toEqual({});
    expect(manifest.warnings).toEqual([]);
  });

  it("file order even for a module named like a number (a JS object would list it first)", () => {
    const text =
      "merge_method: linear\nmodules:\n  b: {models: [{model: org/a}]}\n  '7': {models: [{model: org/a}]}\n";
    expect(parseManifest(text, FILE).modules!.map((m) => m.name)).toEqual(["b", "7"]);
  });

  it("referencedModels lists module models once each (compat, locks, pins, card and parts read it)", () => {
    expect(referencedModels(read(VLM)).map((r) => r.raw)).toEqual([
      "org/base",
      "org/vision-ft",
      "org/chat-ft",
    ]);
  });

  it("a mergekit-multi file swaps an earlier merge's name inside a module for where it was made", () => {
    const text = `name: chat
merge_method: linear
models: [{model: org/a}, {model: org/b}]
---
merge_method: linear
modules:
  default:
    models: [{model: chat}, {model: org/c}]
`;
    const graph = parseMergeGraph(text, FILE)!;
    const final = graph.steps[1]!;
    expect(final.uses).toEqual(["chat"]);
    const made = new Map([["chat", parseModelRef("./made/chat", "/tmp")]]);
    const swapped = withIntermediates(final.manifest, made);
    expect(swapped.modules![0]!.models!.map((m) => m.ref.raw)).toEqual(["./made/chat", "org/c"]);
  });
});

describe("mergekit's exactly-one rules", () => {
  it("refuses modules together with models, in mergekit's words, at the later key", () => {
    const err = fails(
      "merge_method: linear\nmodels: [{model: org/a}]\nmodules:\n  default: {models: [{model: org/a}]}\n",
      3,
      1,
      /Exactly one of 'models', 'slices', or 'modules' must be present.*both `models` and `modules` \(`models` comes first\)/,
    );
    expect(err.hint).toMatch(/modules/);
    fails(
      "merge_method: linear\nmodules:\n  default: {models: [{model: org/a}]}\nslices:\n  - sources: [{model: org/a, layer_range: [0, 1]}]\n",
      4,
      1,
      /both `slices` and `modules` \(`modules` comes first\)/,
    );
  });

  it("refuses a manifest with none of the three", () => {
    fails("merge_method: linear\n", 1, 1, /Exactly one of 'models', 'slices', or 'modules'.*neither/);
  });

  it("refuses a module with both models and slices, at the second", () => {
    const err = fails(
      "merge_method: linear\nmodules:\n  text_decoder:\n    models: [{model: org/a}]\n    slices:\n      - sources: [{model: org/a, layer_range: [0, 2]}]\n",
      5,
      5,
      /Must specify either output slices or models to merge.*module `text_decoder` has both `models` and `slices`/,
    );
    expect(err.where.file).toBe(FILE);
  });

  it("refuses a module with neither (only parameters, or nothing at all)", () => {
    fails(
      "merge_method: linear\nmodules:\n  vision_tower:\n    parameters: {weight: 1}\n",
      3,
      3,
      /Must specify either output slices or models to merge.*`vision_tower` has neither `models` nor `slices`/,
    );
    fails("merge_method: linear\nmodules:\n  vision_tower:\n", 3, 3, /`vision_tower` has neither/);
  });

  it("refuses empty modules and an empty models list inside a module", () => {
    fails("merge_method: linear\nmodules: {}\n", 2, 10, /`modules` is empty/);
    fails(
      "merge_method: linear\nmodules:\n  default:\n    models: []\n",
      4,
      13,
      /`modules.default.models` is empty/,
    );
  });

  it("refuses modules written as a list", () => {
    fails(
      "merge_method: linear\nmodules:\n  - models: [{model: org/a}]\n",
      3,
      3,
      /`modules` must be a mapping of module names/,
    );
  });
});

describe("keys and parameters inside a module", () => {
  it("a misspelt key in a module gets 'did you mean'", () => {
    fails(
      "merge_method: linear\nmodules:\n  default:\n    model: [{model: org/a}]\n",
      4,
      5,
      /Unknown key `model` in `modules.default`; did you mean `models`\?/,
    );
    fails(
      "merge_method: linear\nmodules:\n  default:\n    models: [{model: org/a}]\n    paramters: {weight: 1}\n",
      5,
      5,
      /did you mean `parameters`\?/,
    );
  });

  it("checks module parameters against the method (names, ranges)", () => {
    fails(
      "merge_method: linear\nmodules:\n  default:\n    models: [{model: org/a}]\n    parameters: {weigth: 1}\n",
      5,
      18,
      /Unknown parameter `weigth` for linear; did you mean `weight`\?/,
    );
    fails(
      "merge_method: ties\nbase_model: org/b\nmodules:\n  default:\n    models: [{model: org/a, parameters: {weight: 1}}]\n    parameters: {density: 1.5}\n",
      6,
      27,
      /density must be in/,
    );
  });

  it("a required global parameter may come from each module's parameters (mergekit reads module > global)", () => {
    const modules = `merge_method: slerp
base_model: org/base
modules:
  text_decoder:
    models: [{model: org/base}, {model: org/b}]
    parameters: {t: 0.3}
  vision_tower:
    models: [{model: org/base}, {model: org/b}]
`;
    fails(modules, 1, 15, /slerp needs the parameter `t`/);
    expect(read(`${modules}    parameters: {t: 0.7}\n`).modules).toHaveLength(2);
  });

  it("a required per-model parameter may come from the module (ties' weight)", () => {
    const text = `merge_method: ties
base_model: org/base
modules:
  default:
    models: [{model: org/a}]
`;
    fails(text, 5, 14, /org\/a has no `weight`/);
    expect(read(`${text}    parameters: {weight: 1}\n`).modules![0]!.parameters).toEqual({ weight: 1 });
  });

  it("checks each module's slices like top-level ones (equal lengths, base in every slice)", () => {
    fails(
      `merge_method: slerp
base_model: org/base
parameters: {t: 0.5}
modules:
  text_decoder:
    slices:
      - sources:
          - {model: org/base, layer_range: [0, 4]}
          - {model: org/b, layer_range: [0, 3]}
`,
      9,
      41,
      /spans 3 layers, the slice's first source 4/,
    );
  });

  it("a model listed twice in a module is refused; the same model in two modules is fine", () => {
    fails(
      "merge_method: linear\nmodules:\n  default:\n    models: [{model: org/a}, {model: org/a}]\n",
      4,
      30,
      /org\/a is listed twice/,
    );
    const twice =
      "merge_method: linear\nparameters: {weight: 1}\nmodules:\n  a: {models: [{model: org/a}]}\n  b: {models: [{model: org/a}]}\n";
    expect(read(twice).modules!.map((m) => m.name)).toEqual(["a", "b"]);
  });
});
