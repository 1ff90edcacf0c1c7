import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/manifest/parse.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { expectManifestError, fakeLookup } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";

const BASE = `merge_method: ties
base_model: org/base
models:
  - model: org/a
    parameters: {weight: 0.5}
`;

function validate(text: string) {
  const manifest = parseManifest(text, FILE);
  validateManifest(manifest, fakeLookup);
  return manifest;
}

describe("KeyChecker: names of JavaScript object internals", () => {
  // Before the fix `constructor:` at the top level found Object.prototype.constructor in the
  // table of unsupported mergekit keys and failed with "undefined is not supported".
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "refuses `%s:` at the top level as an unknown key",
    (key) => {
      const error = expectManifestError(
        () => validate(`${BASE}${key}: 1\n`),
        6,
        1,
        /^Unknown key `.+` at the top level\.$/,
      );
      expect(error.message).toContain(`\`${key}\``);
      expect(error.message).not.toMatch(/undefined/);
    },
  );

  it("refuses one in a models entry, at its line", () => {
    const text = BASE.replace("    parameters", "    constructor: x\n    parameters");
    expectManifestError(() => validate(text), 5, 5, /^Unknown key `constructor` in `models\[0\]`\.$/);
  });

  it("refuses one among the parameters, which would otherwise be dropped silently", () => {
    const text = BASE.replace("{weight: 0.5}", "{weight: 0.5, __proto__: {weight: 9}}");
    expectManifestError(
      () => validate(text),
      5,
      31,
      /^Unknown key `__proto__` in `models\[0\]\.parameters`\.$/,
    );
  });

  it("refuses one in a filter entry", () => {
    const text = BASE.replace(
      "{weight: 0.5}",
      "{weight: [{filter: mlp, value: 1, toString: 2}, {value: 1}]}",
    );
    expectManifestError(
      () => validate(text),
      5,
      51,
      /^Unknown key `toString` in `models\[0\]\.parameters\.weight\[0\]`\.$/,
    );
  });

  it("refuses one in the hubmerge block", () => {
    expectManifestError(
      () => validate(`${BASE}hubmerge:\n  constructor: 1\n`),
      7,
      3,
      /Unknown key `constructor`/,
    );
  });

  it("still only warns about other unknown mergekit keys", () => {
    expect(validate(`${BASE}comment: hello\n`).warnings).toEqual([
      { message: "Unknown key `comment` at the top level is ignored.", pos: { line: 6, column: 1 } },
    ]);
  });
});
