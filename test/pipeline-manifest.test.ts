import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../src/errors.js";
import { checkRun, closeModels, openLocalModel, planRun, readManifest } from "../src/pipeline/index.js";
import { writeFamily, writeManifest } from "./support/models.js";
import { useTempDirs } from "./support/tmp.js";

const tempDir = useTempDirs();

const TIES = `merge_method: ties
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.6, density: 0.3}
  - model: ./ft2
    parameters: {weight: 0.4, density: 0.5}
hubmerge: {seed: 7}
`;

describe("readManifest", () => {
  it("reads a file or its text the same way: method, models in manifest order, and the text's sha256", async () => {
    const dir = await tempDir();
    const path = await writeManifest(dir, TIES);
    const fromFile = await readManifest(path);
    const fromText = await readManifest({ text: await readFile(path, "utf8"), path });
    for (const read of [fromFile, fromText]) {
      expect(read.method.name).toBe("ties");
      expect(read.refs.map((ref) => ref.raw)).toEqual(["./base", "./ft1", "./ft2"]);
      expect(read.sha256).toBe(createHash("sha256").update(TIES).digest("hex"));
      expect(read.manifest.hubmerge.seed).toBe(7n);
    }
  });

  it("validates: a method's missing base model is a manifest error at its line", async () => {
    const dir = await tempDir();
    const text = TIES.replace("base_model: ./base\n", "");
    const error = await readManifest({ text, path: join(dir, "merge.yaml") }).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
  });

  it("hands planRun a manifest it does not read again", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const path = await writeManifest(dir, TIES);
    const read = await readManifest(path);
    await rm(path); // planRun reading the file again would fail now
    const planned = await planRun({ manifest: read });
    try {
      expect(planned.manifest).toBe(read.manifest);
      expect(planned.manifestSha256).toBe(read.sha256);
      expect(planned.plan.recipes.length).toBeGreaterThan(0);
    } finally {
      await closeModels(planned.models);
    }
  });
});

describe("checkRun and openLocalModel", () => {
  it("reports on a family of fine-tunes and closes what it opened", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const { manifest, report } = await checkRun({
      manifestPath: await writeManifest(dir, TIES),
      probe: false,
    });
    expect(manifest.mergeMethod).toBe("ties");
    expect(report.blocking).toBe(false);
  });

  it("opens a local folder's headers and config", async () => {
    const dir = await tempDir();
    const { base } = await writeFamily(dir);
    const model = await openLocalModel(base);
    try {
      expect(model.tensors.tensorNames().length).toBeGreaterThan(0);
      expect(model.config?.["model_type"]).toBe("llama");
    } finally {
      await model.tensors.close();
    }
  });

  it("names a missing folder in an I/O error", async () => {
    const dir = await tempDir();
    const error = await openLocalModel(join(dir, "missing")).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_IO")).toBe(true);
  });
});
