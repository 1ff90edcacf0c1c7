import { describe, expect, it } from "vitest";
import { MERGEKIT_METHODS, MERGEKIT_METHODS_DOC } from "../../src/manifest/mergekit-methods.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import { expectManifestError, fakeLookup } from "./helpers.js";

const validate = (text: string, lookup = fakeLookup) =>
  validateManifest(parseManifest(text, "m.yaml"), lookup);

describe("merge_method names mergekit has", () => {
  it("says a mergekit method hubmerge lacks is not supported yet, with a link", () => {
    const error = expectManifestError(
      () => validate("merge_method: sce\nbase_model: org/base\nmodels:\n  - model: org/a\n"),
      1,
      15,
      /^`sce` is a mergekit method that hubmerge does not support yet \(https:\/\/github\.com\/arcee-ai\/mergekit\//,
    );
    expect(error.message).toContain(MERGEKIT_METHODS_DOC);
    expect(error.hint).toMatch(/supported methods: .*`ties`/);
  });

  it("still says 'did you mean' for a typo, and 'unknown' for other names", () => {
    expectManifestError(
      () => validate("merge_method: multislepr\nmodels:\n  - model: org/a\n", methodRegistry),
      1,
      15,
      /Unknown merge_method `multislepr`; did you mean `multislerp`\?/,
    );
    expectManifestError(
      () => validate("merge_method: average\nmodels:\n  - model: org/a\n", methodRegistry),
      1,
      15,
      /Unknown merge_method `average`\.$/,
    );
  });

  it("lists every method mergekit registers, and hubmerge supports them all", () => {
    expect(MERGEKIT_METHODS).toHaveLength(20);
    expect(MERGEKIT_METHODS).not.toContain("average");
    expect(MERGEKIT_METHODS.filter((name) => methodRegistry.get(name) === undefined)).toEqual([]);
    expect([...methodRegistry.names()].sort()).toEqual([...MERGEKIT_METHODS].sort());
  });
});
