import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import { parseMergeGraph, withIntermediates } from "../../src/manifest/multi-doc.js";
import { parseManifest } from "../../src/manifest/parse.js";

const FILE = "/work/multi.yaml";

const THREE = `# a mergekit-multi file
name: final-merge
merge_method: slerp
base_model: org/base
models:
  - model: org/base
  - model: mid
parameters: {t: 0.5}
---
name: first
merge_method: linear
models:
  - model: org/a
    parameters: {weight: 1}
  - model: org/b
    parameters: {weight: 1}
---
name: mid
merge_method: linear
models:
  - model: first
    parameters: {weight: 1}
  - model: org/c
    parameters: {weight: 1}
tokenizer_source: first
`;

function fails(text: string, line: number, message: RegExp): void {
  try {
    parseMergeGraph(text, FILE);
  } catch (error) {
    expect(isHubmergeError(error)).toBe(true);
    const e = error as { code: string; message: string; where?: { line?: number } };
    expect(e.code).toBe("E_MANIFEST");
    expect(e.message).toMatch(message);
    expect(e.where?.line).toBe(line);
    return;
  }
  throw new Error("expected an error");
}

describe("parseMergeGraph", () => {
  it("is undefined for a one-document manifest", () => {
    expect(parseMergeGraph("merge_method: linear\nmodels: [{model: org/a}]\n", FILE)).toBeUndefined();
  });

  it("orders the merges dependencies first and picks the merge nobody reads as the final one", () => {
    const graph = parseMergeGraph(THREE, FILE)!;
    expect(graph.steps.map((s) => s.name)).toEqual(["first", "mid", "final-merge"]);
    expect(graph.steps.map((s) => s.uses)).toEqual([[], ["first"], ["mid"]]);
    expect(graph.final.name).toBe("final-merge");
    // Each document keeps the file's line numbers, and never sees its `name:` key.
    const mid = graph.steps[1]!.manifest;
    expect(mid.models![0]!.pos.line).toBe(21);
    expect(mid.warnings).toEqual([]);
    expect(mid.locate(["tokenizer_source"])?.line).toBe(25);
  });

  it("makes the unnamed document the final merge", () => {
    const text =
      "merge_method: linear\nmodels: [{model: a}, {model: org/x}]\n---\nname: a\nmerge_method: linear\nmodels: [{model: org/y}]\n";
    const graph = parseMergeGraph(text, FILE)!;
    expect(graph.steps.map((s) => s.name ?? null)).toEqual(["a", null]);
    expect(graph.final.name).toBeUndefined();
  });

  it("points each intermediate reference where the earlier merge was made", () => {
    const graph = parseMergeGraph(THREE, FILE)!;
    const made = new Map([["first", { raw: "first", kind: "local" as const, path: "/tmp/i/first" }]]);
    const mid = withIntermediates(graph.steps[1]!.manifest, made);
    expect(mid.models!.map((m) => m.ref)).toEqual([
      made.get("first"),
      graph.steps[1]!.manifest.models![1]!.ref,
    ]);
    expect(mid.tokenizerSource).toBe("/tmp/i/first");
    expect(mid.tokenizer?.source).toEqual(made.get("first"));
    const hub = new Map([
      ["mid", { raw: "acme/mid@abc", kind: "hub" as const, repo: "acme/mid", revision: "abc" }],
    ]);
    expect(withIntermediates(graph.steps[2]!.manifest, hub).models![1]!.ref.repo).toBe("acme/mid");
  });

  it("refuses a cycle at the first merge on it", () => {
    const text =
      "name: a\nmerge_method: linear\nmodels: [{model: b}]\n---\nname: b\nmerge_method: linear\nmodels: [{model: a}]\n";
    fails(text, 1, /`a` → `b` → `a` read each other in a cycle/);
  });

  it("refuses a merge that reads itself", () => {
    fails(
      "name: a\nmerge_method: linear\nmodels: [{model: a}]\n---\nname: b\nmerge_method: linear\nmodels: [{model: org/x}]\n",
      1,
      /`a` → `a`/,
    );
  });

  it("refuses two merges of one name, and two unnamed merges", () => {
    const doc = "merge_method: linear\nmodels: [{model: org/x}]\n";
    fails(`name: a\n${doc}---\nname: a\n${doc}`, 5, /Two merges are named `a`/);
    fails(`${doc}---\n${doc}`, 4, /two documents without `name:`/);
  });

  it("refuses a name that cannot be a folder", () => {
    const doc = "merge_method: linear\nmodels: [{model: org/x}]\n";
    fails(`name: ../up\n${doc}---\nname: b\n${doc}`, 1, /must be a short name/);
    fails(`name: [1]\n${doc}---\nname: b\n${doc}`, 1, /must be a short name/);
  });

  it("says `did you mean` for a misspelt merge name, at its line", () => {
    const text =
      "name: first-merge\nmerge_method: linear\nmodels: [{model: org/x}]\n---\nmerge_method: linear\nmodels:\n  - model: org/y\n  - model: frist-merge\n";
    fails(text, 8, /`frist-merge` is not the name of a merge in this file/);
  });

  it("refuses a revision on an intermediate merge", () => {
    const text =
      "name: a\nmerge_method: linear\nmodels: [{model: org/x}]\n---\nmerge_method: linear\nmodels: [{model: a@main}]\n";
    fails(text, 6, /pins a revision of the merge `a`/);
  });

  it("reports a document's own errors at the file's line", () => {
    const text =
      "name: a\nmerge_method: linear\nmodels: [{model: org/x}]\n---\nname: b\nmerge_method: linear\nmodels: [{model: a}]\nparamters: {}\n";
    fails(text, 8, /paramters/);
  });
});

describe("a multi-document file where one manifest is expected", () => {
  it("says it is a mergekit-multi file, not what the YAML library calls it", () => {
    const text =
      "name: a\nmerge_method: linear\nmodels: [{model: org/x}]\n---\nmerge_method: linear\nmodels: [{model: a}]\n";
    expect(() => parseManifest(text, FILE)).toThrow(/several YAML documents \(a mergekit-multi file\)/);
    expect(() => parseManifest(text, FILE)).not.toThrow(/parseAllDocuments/);
  });
});
