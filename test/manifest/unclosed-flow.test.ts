import { describe, expect, it } from "vitest";
import { YamlTree } from "../../src/manifest/yaml-tree.js";
import { HubmergeError } from "../../src/errors.js";

function syntaxErrorAt(text: string): { line?: number; column?: number } {
  try {
    YamlTree.parse(text, "merges/x.yaml");
  } catch (error) {
    if (error instanceof HubmergeError) return error.where;
    throw error;
  }
  throw new Error("no syntax error");
}

describe("YAML syntax errors point at the line that opened an unclosed collection", () => {
  it("an unclosed { on line 4 is reported on line 4, not where the parser noticed it", () => {
    const text = "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1\n  - model: b\n";
    expect(syntaxErrorAt(text)).toMatchObject({ line: 4, column: 17 });
  });

  it("the innermost unclosed [ wins, and blank lines in between do not shift it", () => {
    expect(syntaxErrorAt("a: 1\nb: {x: [1, 2}\n\n\nc: 3\n")).toMatchObject({ line: 2 });
    expect(syntaxErrorAt("a: {x: 1, y: 2\n\n\nb: 3\n")).toMatchObject({ line: 1, column: 4 });
  });

  it("other syntax errors keep the parser's position", () => {
    expect(syntaxErrorAt("a: 1\nb: {c: 2}\na: 3\n")).toMatchObject({ line: 3 });
  });
});
