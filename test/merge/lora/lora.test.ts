import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { startLocalHub } from "../../../src/localhub/index.js";
import { readManifest, runMerge } from "../../../src/pipeline/index.js";
import { hubSession } from "../../../src/session.js";
import { seedHubModel } from "../../support/hub-models.js";
import { materializeLora, writeLoraAdapter, type LoraSpec } from "../../support/lora.js";
import { writeFamily, writeManifest } from "../../support/models.js";
import { useTempDirs } from "../../support/tmp.js";

const tempDir = useTempDirs();

const SPEC: LoraSpec = {
  rank: 4,
  alpha: 8,
  targets: ["self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"],
  layers: 3,
  embedding: true,
  saveLmHead: true,
};

const manifest = (model: string) => `merge_method: task_arithmetic
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.6}
  - model: ${model}
    parameters: {weight: 0.4}
dtype: bfloat16
`;

async function mergeBoth(dir: string, spec: LoraSpec, scale: number): Promise<[Buffer, Buffer]> {
  await writeLoraAdapter(join(dir, "adapter"), join(dir, "base"), spec);
  await materializeLora(join(dir, "base"), join(dir, "adapter"), join(dir, "mat"), scale);
  await runMerge({
    manifestPath: await writeManifest(dir, manifest("./base+./adapter"), "lora.yaml"),
    out: join(dir, "a"),
  });
  await runMerge({
    manifestPath: await writeManifest(dir, manifest("./mat"), "mat.yaml"),
    out: join(dir, "b"),
  });
  return [
    await readFile(join(dir, "a", "model.safetensors")),
    await readFile(join(dir, "b", "model.safetensors")),
  ];
}

describe("model+adapter sources", () => {
  it("merge base+adapter to the same bytes as the materialised model (linear, embedding, modules_to_save)", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const [lora, mat] = await mergeBoth(dir, SPEC, 2);
    expect(lora.equals(mat)).toBe(true);
    // The adapter changes the merge (the test would pass trivially otherwise).
    await runMerge({
      manifestPath: await writeManifest(dir, manifest("./base"), "plain.yaml"),
      out: join(dir, "c"),
    });
    expect(lora.equals(await readFile(join(dir, "c", "model.safetensors")))).toBe(false);
    const record = JSON.parse(await readFile(join(dir, "a", "hubmerge.json"), "utf8"));
    expect(record.sources.map((s: { ref: string }) => s.ref)).toContain("./adapter");
  });

  it("scales by alpha/sqrt(r) with use_rslora", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const [lora, mat] = await mergeBoth(dir, { ...SPEC, rank: 4, alpha: 8, config: { use_rslora: true } }, 4);
    expect(lora.equals(mat)).toBe(true);
  });

  for (const [what, config, message] of [
    ["DoRA", { use_dora: true }, /DoRA adapter/],
    ["another PEFT type", { peft_type: "IA3" }, /IA3 adapter; hubmerge applies LoRA adapters only/],
    ["fan_in_fan_out", { fan_in_fan_out: true }, /fan_in_fan_out/],
    ["alpha_pattern", { alpha_pattern: { q_proj: 4 } }, /alpha_pattern/],
  ] as const) {
    it(`refuses ${what} clearly`, async () => {
      const dir = await tempDir();
      await writeFamily(dir);
      await writeLoraAdapter(join(dir, "adapter"), join(dir, "base"), { ...SPEC, config });
      const manifestPath = await writeManifest(dir, manifest("./base+./adapter"));
      await expect(runMerge({ manifestPath, out: join(dir, "out") })).rejects.toThrow(message);
    });
  }

  it("refuses a folder without adapter_config.json", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const manifestPath = await writeManifest(dir, manifest("./base+./ft2"));
    await expect(runMerge({ manifestPath, out: join(dir, "out") })).rejects.toThrow(
      /has no adapter_config.json/,
    );
  });

  it("refuses an adapter whose matrices do not fit the base", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    await writeLoraAdapter(join(dir, "adapter"), join(dir, "base"), SPEC);
    // The adapter was trained on ./base (hidden 32); applied to a model of hidden 16 it cannot fit.
    const other = await tempDir();
    await writeFamily(other, {
      spec: {
        hiddenSize: 16,
        layers: 3,
        heads: 4,
        kvHeads: 2,
        intermediateSize: 24,
        vocabSize: 64,
        dtype: "BF16",
      },
    });
    const manifestPath = await writeManifest(
      dir,
      manifest(`./${relative(dir, join(other, "base"))}+./adapter`),
    );
    await expect(runMerge({ manifestPath, out: join(dir, "out") })).rejects.toThrow(/does not fit/);
  });
});

describe("model+adapter from the Hub", () => {
  it("reads both from the local Hub, merges the same bytes as from folders, and the card lists the adapter's revision", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    await writeLoraAdapter(join(dir, "adapter"), join(dir, "base"), SPEC);
    const hub = await startLocalHub({ dir: join(dir, "hub") });
    try {
      for (const name of ["base", "ft1", "adapter"]) await seedHubModel(hub, `acme/${name}`, join(dir, name));
      const session = hubSession({ hubUrl: hub.url });
      const text = manifest("acme/base+acme/adapter").replaceAll("./", "acme/");
      await runMerge({
        manifestPath: await writeManifest(dir, text, "hub.yaml"),
        out: join(dir, "hub-out"),
        resolver: session.resolver,
        hubUrl: hub.url,
      });
      await runMerge({
        manifestPath: await writeManifest(dir, manifest("./base+./adapter"), "lora.yaml"),
        out: join(dir, "local-out"),
      });
      const bytes = (d: string) => readFile(join(dir, d, "model.safetensors"));
      expect((await bytes("hub-out")).equals(await bytes("local-out"))).toBe(true);
      const card = await readFile(join(dir, "hub-out", "README.md"), "utf8");
      expect(card).toContain(
        `| adapter | [\`${hub.admin.head("acme/adapter").slice(0, 12)}\`](${hub.url}/acme/adapter/tree/${hub.admin.head("acme/adapter")}) |`,
      );
      // Pinning the adapter (or its base) keeps the same DARE masks, as pinning any source does.
      const dare = (ref: string) =>
        `merge_method: dare_ties\nbase_model: acme/base\nmodels:\n  - model: acme/ft1\n    parameters: {weight: 0.5, density: 0.3}\n  - model: ${ref}\n    parameters: {weight: 0.5, density: 0.3}\n`;
      const sha = hub.admin.head("acme/adapter");
      for (const [name, ref] of [
        ["floating", "acme/base+acme/adapter"],
        ["pinned", `acme/base@main+acme/adapter@${sha}`],
      ]) {
        await runMerge({
          manifestPath: await writeManifest(dir, dare(ref!), `${name}.yaml`),
          out: join(dir, name!),
          resolver: session.resolver,
        });
      }
      expect((await bytes("pinned")).equals(await bytes("floating"))).toBe(true);
    } finally {
      await hub.close();
    }
  });
});

describe("examples/lora/merge.yaml", () => {
  it("is a valid manifest whose second model carries an adapter", async () => {
    const read = await readManifest(new URL("../../../examples/lora/merge.yaml", import.meta.url).pathname);
    expect(read.refs.map((r) => r.lora?.repo ?? null)).toEqual([
      null,
      null,
      "example-org/llama-3.1-8b-math-lora",
    ]);
  });
});
