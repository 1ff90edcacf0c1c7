import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMergeGraph } from "../../src/pipeline/index.js";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const MULTI = `merge_method: linear
models:
  - model: ./base
    parameters: {weight: 0.5}
  - model: blend
    parameters: {weight: 0.5}
---
name: blend
merge_method: task_arithmetic
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.5}
  - model: ./ft2
    parameters: {weight: 0.5}
`;

describe("hubmerge plan / merge on a mergekit-multi file", () => {
  it("plan shows the merge graph in run order; merge runs it and keeps intermediates with -I", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const file = await writeManifest(dir, MULTI, "multi.yaml");
    const plan = await runCli(["plan", file]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`${file}: 2 merges (mergekit-multi), in the order they run:`);
    expect(plan.stdout).toMatch(
      /1\. blend \(line 8\): Task Arithmetic \(task_arithmetic\) → a temporary folder/,
    );
    expect(plan.stdout).toMatch(/2\. \(unnamed\) \(line 1\): .*\(linear\) → the final merge/);
    expect(plan.stdout).toContain("uses blend: planned in full when they exist");

    const merge = await runCli(["merge", file, "--out", join(dir, "out"), "-I", join(dir, "kept"), "-q"]);
    expect(merge.code).toBe(0);
    expect(merge.stdout).toMatch(/^blend: \d+ tensors with task_arithmetic/m);
    expect(await readdir(join(dir, "kept", "blend"))).toContain("model.safetensors");
    expect(await readdir(join(dir, "out"))).toContain("model.safetensors");
  });

  it("refuses --push when the final merge names no output repo, before merging anything", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const file = await writeManifest(dir, MULTI, "multi.yaml");
    const merge = await runCli(["merge", file, "--push", "-I", join(dir, "kept")]);
    expect(merge.code).not.toBe(0);
    expect(merge.stderr).toContain("the final merge of this file names no output repo to publish to");
    await expect(readdir(join(dir, "kept"))).rejects.toThrow(/ENOENT/);
  });

  it("names the line of a cycle", async () => {
    const dir = await tempDir();
    const file = await writeManifest(
      dir,
      "name: a\nmerge_method: linear\nmodels: [{model: b}]\n---\nname: b\nmerge_method: linear\nmodels: [{model: a}]\n",
      "cycle.yaml",
    );
    const plan = await runCli(["plan", file]);
    expect(plan.code).toBe(3);
    expect(plan.stderr).toContain(`${file}:1:7: [E_MANIFEST] The merges \`a\` → \`b\` → \`a\``);
  });
});

describe("examples/multi/merge.yaml", () => {
  it("is a valid three-merge file whose final merge reads both intermediates", async () => {
    const graph = await readMergeGraph(new URL("../../examples/multi/merge.yaml", import.meta.url).pathname);
    expect(graph.steps.map((s) => s.name ?? null)).toEqual(["math-heavy", "code-heavy", null]);
    expect(graph.steps[2]!.uses).toEqual(["math-heavy", "code-heavy"]);
  });
});
