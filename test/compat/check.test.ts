import { describe, expect, it } from "vitest";
import { assertCompatible } from "../../src/compat/check.js";
import type { CompatReport } from "../../src/compat/report.js";
import { isHubmergeError } from "../../src/errors.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { useTempDirs } from "../support/tmp.js";
import { checkManifest, findingsOf, taskManifest, writeFixtures } from "./helpers.js";

const tempDir = useTempDirs();

const codes = (report: CompatReport, model: string) =>
  findingsOf(report, model).map((f) => `${f.severity}:${f.code}`);

describe("runCheck", () => {
  it("blocks a different hidden size from the config and from the layout", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "wide"]);
    const report = await checkManifest(dir, taskManifest(["ft1", "wide"]));
    expect(codes(report, "./ft1")).toEqual([]);
    const wide = codes(report, "./wide");
    expect(wide).toContain("blocking:config.hidden_size");
    expect(wide).toContain("blocking:layout.shape");
    expect(findingsOf(report, "./wide", "config.hidden_size")[0]).toMatchObject({
      base: 32,
      value: 64,
      pos: { line: 6 },
    });
    expect(report.blocking).toBe(true);
    expect(report.models).toEqual(["./base", "./ft1", "./wide"]);
  });

  it("blocks other layer and head counts", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "deep", "heads"]);
    const report = await checkManifest(dir, taskManifest(["deep", "heads"], "ties"));
    expect(codes(report, "./deep")).toEqual(["blocking:config.num_hidden_layers", "info:layout.extra"]);
    expect(codes(report, "./heads")).toEqual([
      "blocking:config.num_attention_heads",
      "blocking:config.num_key_value_heads",
      "blocking:config.head_dim",
    ]);
  });

  it("warns on another vocabulary for the task family and blocks it for linear", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "vocab"]);
    const task = await checkManifest(dir, taskManifest(["vocab"]));
    expect(codes(task, "./vocab")).toEqual([
      "warning:config.vocab_size",
      "warning:layout.shape",
      "warning:layout.shape",
    ]);
    expect(findingsOf(task, "./vocab", "layout.shape").map((f) => f.action)).toEqual([
      "truncate",
      "truncate",
    ]);
    expect(task.blocking).toBe(false);
    const linear = await checkManifest(
      dir,
      "merge_method: linear\nmodels:\n  - model: ./base\n    parameters: {weight: 0.5}\n  - model: ./vocab\n    parameters: {weight: 0.5}\n",
    );
    expect(linear.reference).toBe("./base");
    expect(codes(linear, "./vocab")).toEqual([
      "warning:config.vocab_size",
      "blocking:layout.shape",
      "blocking:layout.shape",
    ]);
    expect(findingsOf(linear, "./vocab", "layout.shape")[0]!.action).toBe("error");
  });

  it("lets slices take compatible layer ranges from models of other depths", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "deep"]);
    const slices = (end: number) =>
      `merge_method: passthrough\nslices:\n  - sources:\n      - model: ./base\n        layer_range: [0, 3]\n  - sources:\n      - model: ./deep\n        layer_range: [3, ${end}]\n`;
    const ok = await checkManifest(dir, slices(5));
    expect(codes(ok, "./deep")).toEqual(["info:config.num_hidden_layers"]);
    expect(ok.blocking).toBe(false);
    const past = await checkManifest(dir, slices(6));
    expect(findingsOf(past, "./deep", "slices.layer_range")).toMatchObject([
      { severity: "blocking", value: [3, 6], base: 5, pos: { line: 7 } },
    ]);
  });

  it("runs the lineage check only with a lookup, and only for Hub models", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1"]);
    let calls = 0;
    const report = await checkManifest(dir, taskManifest(["ft1"]), {
      lineageOf: async () => {
        calls++;
        return [];
      },
    });
    expect(calls).toBe(0);
    expect(report.findings).toEqual([]);
  });
});

describe("assertCompatible", () => {
  const manifest = (allow: boolean) =>
    parseManifest(
      `merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./x\n    parameters: {weight: 1}\nhubmerge:\n  allow_incompatible: ${allow}\n`,
      "/tmp/merge.yaml",
    );
  const report: CompatReport = {
    manifest: "/tmp/merge.yaml",
    method: "ties",
    reference: "./base",
    models: ["./base", "./x"],
    findings: [
      {
        severity: "warning",
        code: "config.rope_theta",
        model: "./x",
        base: 1,
        value: 2,
        message: "m",
        fix: "f",
      },
      {
        severity: "blocking",
        code: "probe.unrelated",
        model: "./x",
        tensor: "model.layers.0.mlp.up_proj.weight",
        base: null,
        value: null,
        message: "./x is not derived from ./base",
        fix: "use a fine-tune of ./base",
        pos: { line: 4, column: 5 },
      },
    ],
    probe: [],
    blocking: true,
  };

  it("throws E_INCOMPATIBLE at the first blocking finding's line", () => {
    let caught: unknown;
    try {
      assertCompatible(report, manifest(false));
    } catch (error) {
      caught = error;
    }
    expect(isHubmergeError(caught, "E_INCOMPATIBLE")).toBe(true);
    if (!isHubmergeError(caught)) return;
    expect(caught.exitCode).toBe(5);
    expect(caught.where).toMatchObject({ file: "/tmp/merge.yaml", line: 4, model: "./x" });
    expect(caught.message).toMatch(/line 4, \.\/x: \.\/x is not derived/);
    expect(caught.hint).toMatch(/allow_incompatible/);
  });

  it("lets the manifest or the flag allow it, and passes a report without blockers", () => {
    expect(() => assertCompatible(report, manifest(true))).not.toThrow();
    expect(() => assertCompatible(report, manifest(false), true)).not.toThrow();
    expect(() => assertCompatible({ ...report, blocking: false }, manifest(false))).not.toThrow();
  });
});
