import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/parse.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { DESIGN_EXAMPLE, expectManifestError, fakeLookup } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";

function validate(text: string) {
  const manifest = parseManifest(text, FILE);
  validateManifest(manifest, fakeLookup);
  return manifest;
}

const fails = (text: string, line: number, column: number, message?: RegExp) =>
  expectManifestError(() => validate(text), line, column, message);

/** A ties manifest whose second model's parameters are `params` (a flow mapping). */
const ties = (params: string, extra = ""): string => `merge_method: ties
base_model: org/base
models:
  - model: org/a
    parameters: {weight: 0.5}
  - model: org/b
    parameters: ${params}
${extra}`;

describe("validateManifest: accepted manifests", () => {
  it("accepts the DESIGN.md example without warnings", () => {
    expect(validate(DESIGN_EXAMPLE).warnings).toEqual([]);
  });

  it("takes a required weight from the global parameters (model > global)", () => {
    expect(() => validate(ties("{}", "parameters: {weight: 1}\n"))).not.toThrow();
  });

  it("does not need a weight for the base model listed among the models", () => {
    const text = `merge_method: ties
base_model: org/base
models:
  - model: org/base
  - model: org/a
    parameters: {weight: 1, density: [0.2, 1]}
`;
    expect(() => validate(text)).not.toThrow();
  });

  it("accepts passthrough slices that take different models and lengths per slice", () => {
    const text = `merge_method: passthrough
slices:
  - sources: [{model: org/a, layer_range: [0, 24]}]
  - sources: [{model: org/b, layer_range: [8, 32]}]
  - sources: [{model: org/a, layer_range: [24, 32], parameters: {scale: 0.5}}]
`;
    expect(() => validate(text)).not.toThrow();
  });

  it("accepts slerp with t as a gradient and a filter list", () => {
    const text = `merge_method: slerp
base_model: org/a
models:
  - model: org/a
  - model: org/b
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - value: 0.5
`;
    expect(() => validate(text)).not.toThrow();
  });

  it("accepts slices where every source spans the same number of layers", () => {
    const text = `merge_method: ties
base_model: org/base
slices:
  - sources:
      - {model: org/base, layer_range: [0, 16]}
      - {model: org/a, layer_range: [16, 32], parameters: {weight: 1}}
`;
    expect(() => validate(text)).not.toThrow();
  });
});

describe("validateManifest: errors point at the offending node", () => {
  it("unknown method, with a suggestion and the known methods", () => {
    const error = fails(
      "merge_method: tie\nbase_model: org/base\nmodels:\n  - model: org/a\n",
      1,
      15,
      /Unknown merge_method `tie`; did you mean `ties`\?/,
    );
    expect(error.hint).toMatch(/`breadcrumbs`, `dare_ties`, `della`, .*`ties`/);
    fails(
      "merge_method: frankenstein\nmodels:\n  - model: org/a\n",
      1,
      15,
      /Unknown merge_method `frankenstein`\.$/,
    );
  });

  it("base_model missing for ties", () => {
    fails(
      "merge_method: ties\nmodels:\n  - model: org/a\n    parameters: {weight: 1}\n",
      1,
      15,
      /ties needs a `base_model`/,
    );
  });

  it("missing weight, at the model entry", () => {
    const error = fails(ties("{density: 0.5}"), 6, 5, /org\/b has no `weight`, which ties needs/);
    expect(error.hint).toMatch(/parameters: \{weight: …\}/);
  });

  it("weight as a string", () => {
    const error = fails(
      ties('{weight: "0.5"}'),
      7,
      26,
      /`models\[1\].parameters.weight` must be a number, got the string "0.5"/,
    );
    expect(error.hint).toBe("Write the number without quotes: `weight: 0.5`.");
  });

  it("weight that is not finite", () => {
    fails(ties("{weight: .inf}"), 7, 26, /must be a finite number/);
  });

  it("density 0 and 1.5", () => {
    fails(ties("{weight: 1, density: 0}"), 7, 38, /is 0; density must be in \(0, 1\]/);
    fails(ties("{weight: 1, density: 1.5}"), 7, 38, /is 1.5; density must be in \(0, 1\]/);
  });

  it("density out of range in a gradient anchor", () => {
    fails(
      ties("{weight: 1, density: [0.5, 0.7, 1.2]}"),
      7,
      49,
      /`models\[1\].parameters.density\[2\]` is 1.2/,
    );
  });

  it("density out of range in a filter value (and in a gradient inside one)", () => {
    const text = `merge_method: dare_ties
base_model: org/base
models:
  - model: org/a
    parameters:
      weight: 1
      density:
        - filter: mlp
          value: 0.4
        - value: 0
`;
    fails(text, 10, 18, /`models\[0\].parameters.density\[1\].value` is 0/);
    fails(
      ties("{weight: 1, density: [{filter: mlp, value: [0.5, -0.1]}]}"),
      7,
      66,
      /density\[0\].value\[1\]` is -0.1/,
    );
  });

  it("density out of range in the global parameters", () => {
    fails(ties("{weight: 1}", "parameters: {density: 2}\n"), 8, 23, /`parameters.density` is 2/);
  });

  it("t out of [0, 1] for slerp, and t missing", () => {
    const slerp = (params: string): string =>
      `merge_method: slerp\nbase_model: org/a\nmodels:\n  - model: org/a\n  - model: org/b\n${params}`;
    fails(slerp("parameters: {t: [0, 1.5]}\n"), 6, 21, /`parameters.t\[1\]` is 1.5; t must be in \[0, 1\]/);
    fails(slerp(""), 1, 15, /slerp needs the parameter `t`/);
    fails(slerp("parameters: {normalize: true}\n"), 6, 13, /slerp needs the parameter `t`/);
  });

  it("too many models for slerp, at the extra model", () => {
    const text =
      "merge_method: slerp\nbase_model: org/a\nparameters: {t: 0.5}\nmodels:\n  - model: org/b\n  - model: org/c\n";
    fails(text, 6, 5, /slerp merges exactly 1 model besides the base model/);
  });

  it("too few models, at the list", () => {
    fails(
      "merge_method: ties\nbase_model: org/a\nmodels:\n  - model: org/a\n",
      4,
      3,
      /ties merges at least 1 model besides the base model; `models` has 0/,
    );
  });

  it("a model listed twice", () => {
    fails(
      ties("{weight: 1}", "  - model: org/a\n    parameters: {weight: 1}\n"),
      8,
      5,
      /org\/a is listed twice \(first at line 4\)/,
    );
  });

  it("della's density ± epsilon", () => {
    const della = (params: string): string =>
      `merge_method: della\nbase_model: org/base\nmodels:\n  - model: org/a\n    parameters: ${params}\n`;
    fails(
      della("{weight: 1, density: 0.1, epsilon: 0.2}"),
      5,
      52,
      /density 0.1 ± epsilon 0.2 leaves \(0, 1\)/,
    );
    // The default epsilon (0.15) with a low density: pointed at the density.
    fails(della("{weight: 1, density: 0.1}"), 5, 38, /density 0.1 ± epsilon 0.15/);
    expect(() => validate(della("{weight: 1, density: 0.5, epsilon: 0.1}"))).not.toThrow();
    expect(() => validate(della("{weight: 1, density: 1, epsilon: 0.1}"))).not.toThrow();
    fails(della("{weight: 1, epsilon: -0.1}"), 5, 38, /epsilon must be in \[0, 1\)/);
  });

  it("a misspelt parameter name is an error with a suggestion", () => {
    const error = fails(
      ties("{weight: 1, densty: 0.5}"),
      7,
      29,
      /Unknown parameter `densty` for ties; did you mean `density`\?/,
    );
    expect(error.hint).toMatch(/Rename it to `density`/);
  });

  it("a boolean parameter given as 2 (0 and 1 read as booleans, as in mergekit)", () => {
    expect(() => validate(ties("{weight: 1}", "parameters: {normalize: 1}\n"))).not.toThrow();
    fails(ties("{weight: 1}", "parameters: {normalize: 2}\n"), 8, 25, /must be `true` or `false`, got 2/);
  });

  it("slices with mismatched layer ranges, at the mismatching range", () => {
    const text = `merge_method: ties
base_model: org/base
slices:
  - sources:
      - model: org/base
        layer_range: [0, 16]
      - model: org/a
        layer_range: [0, 12]
        parameters: {weight: 1}
`;
    fails(text, 8, 22, /spans 12 layers, the slice's first source 16/);
  });

  it("a ties slice without the base model", () => {
    const text = `merge_method: ties
base_model: org/base
slices:
  - sources:
      - {model: org/a, layer_range: [0, 16], parameters: {weight: 1}}
`;
    fails(text, 4, 5, /no source from the base model org\/base/);
  });

  it("a missing weight in a slice source, unless the slice sets it", () => {
    const text = (sliceParams: string): string => `merge_method: ties
base_model: org/base
slices:
  - sources:
      - {model: org/base, layer_range: [0, 16]}
      - {model: org/a, layer_range: [0, 16]}
${sliceParams}`;
    fails(text(""), 6, 9, /org\/a has no `weight`/);
    expect(() => validate(text("    parameters: {weight: 0.5}\n"))).not.toThrow();
  });
});

describe("validateManifest: warnings", () => {
  it("warns about unknown parameter names that are not typos", () => {
    const manifest = validate(ties("{weight: 1, temperature: 3}"));
    expect(manifest.warnings).toEqual([
      {
        message: expect.stringMatching(/`temperature` is not a parameter of ties .*ignored/),
        pos: { line: 7, column: 29 },
      },
    ]);
  });

  it("warns about a global parameter set per model", () => {
    const manifest = validate(ties("{weight: 1, normalize: true}"));
    expect(manifest.warnings).toEqual([
      {
        message: expect.stringMatching(/`normalize` is a global parameter of ties/),
        pos: { line: 7, column: 29 },
      },
    ]);
  });

  it("warns when breadcrumbs' density + gamma exceeds 1", () => {
    const text =
      "merge_method: breadcrumbs\nbase_model: org/base\nmodels:\n  - model: org/a\n    parameters: {weight: 1, density: 0.9, gamma: 0.2}\n";
    const manifest = validate(text);
    expect(manifest.warnings).toEqual([
      { message: expect.stringMatching(/density 0.9 \+ gamma 0.2 exceeds 1/), pos: { line: 5, column: 50 } },
    ]);
  });

  it("warns that linear ignores a base_model not listed in models", () => {
    const text =
      "merge_method: linear\nbase_model: org/base\nmodels:\n  - model: org/a\n    parameters: {weight: 1}\n";
    expect(validate(text).warnings).toEqual([
      { message: expect.stringMatching(/linear has no base model/), pos: { line: 2, column: 13 } },
    ]);
  });
});
