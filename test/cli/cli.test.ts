import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/errors.js";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const MANIFEST = `merge_method: ties
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.5, density: 0.5}
  - model: ./ft2
    parameters: {weight: 0.5, density: 0.5}
`;

describe("hubmerge CLI", () => {
  it("merges a manifest, and --seed and --threads give the bytes the library gives", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifest = await writeManifest(dir, MANIFEST);
    const result = await runCli([
      "merge",
      manifest,
      "--out",
      join(dir, "out"),
      "--seed",
      "7",
      "--threads",
      "2",
    ]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/merged \d+ tensors with TIES/);
    const record = JSON.parse(await readFile(join(dir, "out", "hubmerge.json"), "utf8"));
    expect(record.seed).toBe("7");
    const again = await runCli([
      "merge",
      manifest,
      "--out",
      join(dir, "out2"),
      "--seed",
      "7",
      "--threads",
      "1",
    ]);
    expect(again.code).toBe(0);
    expect(await readFile(join(dir, "out2", "model.safetensors"))).toEqual(
      await readFile(join(dir, "out", "model.safetensors")),
    );
  });

  it("prints the manifest's warnings, located, from plan and from merge", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifest = await writeManifest(dir, `name: my-merge\n${MANIFEST}`);
    const warning = `warning: ${manifest}:1:1: Unknown key \`name\` at the top level is ignored.`;
    const plan = await runCli(["plan", manifest]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(warning);
    const json = await runCli(["plan", manifest, "--json"]);
    expect(JSON.parse(json.stdout).manifestWarnings).toEqual([warning.slice("warning: ".length)]);
    const merge = await runCli(["merge", manifest, "--out", join(dir, "out"), "-q"]);
    expect(merge.code).toBe(0);
    expect(merge.stderr).toContain(warning);
  });

  it("points a manifest error at its file, line and column, with the manifest exit status", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifest = await writeManifest(
      dir,
      MANIFEST.replace("density: 0.5}\n  - model: ./ft2", "density: 1.5}\n  - model: ./ft2"),
    );
    const result = await runCli(["merge", manifest, "--out", join(dir, "out")]);
    expect(result.code).toBe(ERROR_CODES.E_MANIFEST);
    expect(result.stderr).toMatch(/merge\.yaml:5:\d+: \[E_MANIFEST\].*density/);
    expect(result.stderr).toMatch(/hint:/);
  });

  it("reports a missing model folder as an I/O error naming the model", async () => {
    const dir = await tempDir();
    const manifest = await writeManifest(dir, MANIFEST);
    const result = await runCli(["merge", manifest, "--out", join(dir, "out")]);
    expect(result.code).toBe(ERROR_CODES.E_IO);
    expect(result.stderr).toMatch(/model \.\/base/);
  });

  it("rejects bad flags with the usage status", async () => {
    const result = await runCli(["merge", "x.yaml", "--out", "o", "--seed", "-3"]);
    expect(result.code).toBe(ERROR_CODES.E_USAGE);
    expect(result.stderr).toMatch(/seed/);
  });

  it("inspects a model: config and tensor table, or JSON", async () => {
    const dir = await tempDir();
    const { base } = await writeFamily(dir, { fineTunes: 0 });
    const text = await runCli(["inspect", base]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/model_type: "llama"/);
    expect(text.stdout).toMatch(/model\.layers\.0\.mlp\.up_proj\.weight\s+BF16\s+\[48, 32\]/);
    const json = JSON.parse((await runCli(["inspect", base, "--json"])).stdout);
    expect(json.tensors).toHaveLength(3 * 9 + 3);
  });

  it("plans without reading weights", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const result = await runCli(["plan", await writeManifest(dir, MANIFEST)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tensors: 30 \(30 merged, 0 copied\)/);
  });
});
