import { readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isHubmergeError } from "../src/errors.js";
import { runMerge } from "../src/pipeline/index.js";
import { SafetensorsModel } from "../src/safetensors/reader.js";
import { LocalSource } from "../src/source/local-source.js";
import { tinyLlamaValues } from "../src/synth/tiny-llama.js";
import { TEST_LLAMA, writeFamily, writeManifest } from "./support/models.js";
import { useTempDirs } from "./support/tmp.js";

const tempDir = useTempDirs();

const DARE_TIES = `merge_method: dare_ties
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.6, density: 0.3}
  - model: ./ft2
    parameters: {weight: 0.4, density: 0.5}
dtype: bfloat16
hubmerge: {seed: 99}
`;

const opened: SafetensorsModel[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

async function openModel(dir: string): Promise<SafetensorsModel> {
  const model = await SafetensorsModel.open(new LocalSource(dir, dir));
  opened.push(model);
  return model;
}

async function shardBytes(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".safetensors") || n.endsWith(".json"));
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

describe("runMerge", () => {
  it("gives byte-identical shards for the same manifest and seed, and other masks for another seed", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifestPath = await writeManifest(dir, DARE_TIES);
    const first = await runMerge({ manifestPath, out: join(dir, "a") });
    await runMerge({ manifestPath, out: join(dir, "b") });
    await runMerge({ manifestPath, out: join(dir, "c"), seed: 100n });
    const a = await shardBytes(join(dir, "a"));
    const b = await shardBytes(join(dir, "b"));
    const c = await shardBytes(join(dir, "c"));
    expect(a.get("model.safetensors")!.equals(b.get("model.safetensors")!)).toBe(true);
    expect(a.get("model.safetensors")!.equals(c.get("model.safetensors")!)).toBe(false);
    expect(first.record.files[0]!.path).toBe("model.safetensors");
    expect(first.record.seed).toBe("99");
    expect(JSON.parse(a.get("config.json")!.toString()).torch_dtype).toBe("bfloat16");
  });

  it("computes linear merges to the exact f32 bytes", async () => {
    const dir = await tempDir();
    const spec = { ...TEST_LLAMA, dtype: "F32" as const };
    await writeFamily(dir, { spec });
    const manifestPath = await writeManifest(
      dir,
      `merge_method: linear
models:
  - model: ./ft1
    parameters: {weight: 0.25}
  - model: ./ft2
    parameters: {weight: 0.75}
`,
    );
    await runMerge({ manifestPath, out: join(dir, "out") });
    const merged = await openModel(join(dir, "out"));
    for (const name of ["model.layers.1.mlp.up_proj.weight", "model.norm.weight"]) {
      const info = merged.info(name);
      const a = tinyLlamaValues(name, info.shape, { baseSeed: 1, delta: { seed: 101, std: 0.004 } });
      const b = tinyLlamaValues(name, info.shape, { baseSeed: 1, delta: { seed: 102, std: 0.004 } });
      const f = Math.fround;
      const expected = a.map((x, i) => f(f(f(0.25 * x) + f(0.75 * b[i]!)) / 1));
      expect(Buffer.from((await merged.readTensorF32(name)).buffer)).toEqual(Buffer.from(expected.buffer));
    }
  });

  it("reads sharded inputs and writes sharded outputs with the same tensor bytes", async () => {
    const dir = await tempDir();
    await writeFamily(join(dir, "whole"));
    await writeFamily(join(dir, "sharded"), { extra: { maxShardBytes: 20_000 } });
    const whole = await runMerge({
      manifestPath: await writeManifest(join(dir, "whole"), DARE_TIES),
      out: join(dir, "o1"),
    });
    const sharded = await runMerge({
      manifestPath: await writeManifest(join(dir, "sharded"), DARE_TIES),
      out: join(dir, "o2"),
      maxShardBytes: 30_000,
    });
    expect(sharded.record.files.length).toBeGreaterThan(2);
    expect(sharded.record.files.map((f) => f.path)).toContain("model.safetensors.index.json");
    const index = JSON.parse(await readFile(join(dir, "o2", "model.safetensors.index.json"), "utf8"));
    expect(index.metadata.total_size).toBe(sharded.plan.shards.totalSize);
    const [a, b] = await Promise.all([openModel(join(dir, "o1")), openModel(join(dir, "o2"))]);
    expect(b.tensorNames()).toEqual(a.tensorNames());
    for (const name of a.tensorNames()) {
      expect(Buffer.from(await b.readTensorBytes(name))).toEqual(Buffer.from(await a.readTensorBytes(name)));
    }
    expect(whole.record.files).toHaveLength(1);
  });

  it("leaves the previous output intact and no temp folder when a merge fails", async () => {
    const dir = await tempDir();
    const { fineTunes } = await writeFamily(dir);
    const manifestPath = await writeManifest(dir, DARE_TIES);
    await runMerge({ manifestPath, out: join(dir, "out") });
    const before = await shardBytes(join(dir, "out"));
    await truncate(join(fineTunes[1]!, "model.safetensors"), 20_000); // header intact, data cut short
    const error = await runMerge({ manifestPath, out: join(dir, "out") }).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_SAFETENSORS")).toBe(true);
    expect(await shardBytes(join(dir, "out"))).toEqual(before);
    expect((await readdir(dir)).filter((n) => n.includes("hubmerge-tmp"))).toEqual([]);
  });

  it("refuses to replace a folder hubmerge did not write, unless forced", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifestPath = await writeManifest(dir, DARE_TIES);
    const error = await runMerge({ manifestPath, out: join(dir, "ft1") }).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_IO")).toBe(true);
    expect((error as Error).message).toMatch(/not written by hubmerge/);
  });

  it("stacks layers with passthrough slices and renumbers them", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifestPath = await writeManifest(
      dir,
      `merge_method: passthrough
slices:
  - sources: [{model: ./ft1, layer_range: [0, 2]}]
  - sources: [{model: ./ft2, layer_range: [1, 3]}]
`,
    );
    const result = await runMerge({ manifestPath, out: join(dir, "out") });
    const merged = await openModel(join(dir, "out"));
    const ft2 = await openModel(join(dir, "ft2"));
    const config = JSON.parse(await readFile(join(dir, "out", "config.json"), "utf8"));
    expect(config.num_hidden_layers).toBe(4);
    expect(merged.has("model.layers.3.mlp.up_proj.weight")).toBe(true);
    expect(merged.has("model.layers.4.mlp.up_proj.weight")).toBe(false);
    expect(Buffer.from(await merged.readTensorBytes("model.layers.3.mlp.up_proj.weight"))).toEqual(
      Buffer.from(await ft2.readTensorBytes("model.layers.2.mlp.up_proj.weight")),
    );
    expect(result.plan.recipes[0]!.name).toBe("model.embed_tokens.weight");
  });

  it("stacks a gpt2-style config under its own layer-count key, with per-layer lists", async () => {
    const dir = await tempDir();
    const { fineTunes } = await writeFamily(dir);
    for (const [i, folder] of fineTunes.entries()) {
      const path = join(folder, "config.json");
      const { num_hidden_layers: count, ...rest } = JSON.parse(await readFile(path, "utf8"));
      const layerTypes = Array.from({ length: count }, (_, k) => `ft${i + 1}-layer${k}`);
      await writeFile(path, JSON.stringify({ ...rest, n_layer: count, layer_types: layerTypes }));
    }
    const manifestPath = await writeManifest(
      dir,
      `merge_method: passthrough
slices:
  - sources: [{model: ./ft1, layer_range: [0, 2]}]
  - sources: [{model: ./ft2, layer_range: [1, 3]}]
`,
    );
    await runMerge({ manifestPath, out: join(dir, "out") });
    const config = JSON.parse(await readFile(join(dir, "out", "config.json"), "utf8"));
    expect(config.n_layer).toBe(4);
    expect(config).not.toHaveProperty("num_hidden_layers");
    expect(config.layer_types).toEqual(["ft1-layer0", "ft1-layer1", "ft2-layer1", "ft2-layer2"]);
  });

  it("copies the tokenizer and generation config from the base", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const result = await runMerge({
      manifestPath: await writeManifest(dir, DARE_TIES),
      out: join(dir, "out"),
    });
    const files = await readdir(result.outDir);
    expect(files).toEqual(
      expect.arrayContaining([
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
        "hubmerge.json",
      ]),
    );
    expect(await readFile(join(result.outDir, "tokenizer.json"))).toEqual(
      await readFile(join(dir, "base", "tokenizer.json")),
    );
  });
});
