/**
 * `modules:` merges end to end (runMerge on generated VLMs, f32): each module equals, byte for
 * byte, the plain merge with that module's effective parameters; parameter precedence
 * (model > slice > module > global); a stacked module renumbers its layers and writes its own
 * config key; `default` equals the plain merge; the output holds the modules in manifest order.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMerge } from "../../src/pipeline/index.js";
import { TEST_LLAMA, writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { writeVlmFamily, type VlmSpec } from "../support/vlm-models.js";
import { configOf, tensorsOf } from "./helpers.js";

const tempDir = useTempDirs();

const QWEN: VlmSpec = { layout: "qwen2vl", textLayers: 3, visionLayers: 4 };
const GEMMA: VlmSpec = { layout: "gemma3", textLayers: 3, visionLayers: 2 };

async function merge(dir: string, name: string, text: string): Promise<Map<string, Buffer>> {
  const manifestPath = await writeManifest(dir, text, `${name}.yaml`);
  await runMerge({ manifestPath, out: join(dir, name) });
  return tensorsOf(join(dir, name));
}

/** Expects every tensor of `actual` whose name passes `pick` to equal `expected`'s, bytewise. */
function expectSame(
  actual: Map<string, Buffer>,
  expected: Map<string, Buffer>,
  pick: (name: string) => boolean,
) {
  const names = [...actual.keys()].filter(pick);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(actual.get(name)!.equals(expected.get(name)!), name).toBe(true);
}

const isProjector = (n: string) => n.startsWith("visual.merger.");
const isTower = (n: string) => n.startsWith("visual.") && !isProjector(n);
const isText = (n: string) => !n.startsWith("visual.");

describe("modules: each module merged with its own parameters", () => {
  it("slerp with t per module equals three plain slerps, one per module (module t reaches the global parameter)", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, QWEN, 1);
    const slerp = (t: number) =>
      `merge_method: slerp\nbase_model: ./base\nmodels: [{model: ./base}, {model: ./ft1}]\nparameters: {t: ${t}}\n`;
    const modules = await merge(
      dir,
      "modules",
      `merge_method: slerp
base_model: ./base
modules:
  text_decoder:
    models: [{model: ./base}, {model: ./ft1}]
    parameters: {t: 0.3}
  vision_tower:
    models: [{model: ./base}, {model: ./ft1}]
    parameters: {t: 0.8}
  multi_modal_projector:
    models: [{model: ./base}, {model: ./ft1}]
parameters: {t: 0.5}
`,
    );
    expectSame(modules, await merge(dir, "t03", slerp(0.3)), isText);
    expectSame(modules, await merge(dir, "t08", slerp(0.8)), isTower);
    expectSame(modules, await merge(dir, "t05", slerp(0.5)), isProjector);
    expect(modules.size).toBe((await tensorsOf(join(dir, "base"))).size);
  });

  it("ties: a model's own parameters beat the module's, which beat the global ones", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, QWEN);
    const modules = await merge(
      dir,
      "modules",
      `merge_method: ties
base_model: ./base
modules:
  text_decoder:
    models:
      - {model: ./ft1, parameters: {weight: 0.7}}
      - {model: ./ft2}
    parameters: {weight: 0.2, density: 0.5}
  vision_tower:
    models:
      - {model: ./ft1}
      - {model: ./ft2, parameters: {density: 0.9}}
    parameters: {density: 0.4}
  multi_modal_projector:
    models: [{model: ./ft1}, {model: ./ft2}]
parameters: {weight: 0.5, density: 0.6}
`,
    );
    const ties = (a: string, b: string) =>
      `merge_method: ties\nbase_model: ./base\nmodels:\n  - {model: ./ft1, parameters: ${a}}\n  - {model: ./ft2, parameters: ${b}}\n`;
    const text = await merge(dir, "text", ties("{weight: 0.7, density: 0.5}", "{weight: 0.2, density: 0.5}"));
    const tower = await merge(
      dir,
      "tower",
      ties("{weight: 0.5, density: 0.4}", "{weight: 0.5, density: 0.9}"),
    );
    const projector = await merge(
      dir,
      "proj",
      ties("{weight: 0.5, density: 0.6}", "{weight: 0.5, density: 0.6}"),
    );
    expectSame(modules, text, isText);
    expectSame(modules, tower, isTower);
    expectSame(modules, projector, isProjector);
    // The settings really differ per module: the text tensors are not the tower run's.
    expect(
      modules
        .get("model.layers.1.mlp.up_proj.weight")!
        .equals(tower.get("model.layers.1.mlp.up_proj.weight")!),
    ).toBe(false);
  });

  it("a slices module: slice t beats module t beats global t; pre-weights follow the first slice, post the last", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, QWEN, 1);
    const modules = await merge(
      dir,
      "modules",
      `merge_method: slerp
base_model: ./base
modules:
  text_decoder:
    slices:
      - sources: [{model: ./base, layer_range: [0, 2]}, {model: ./ft1, layer_range: [0, 2]}]
        parameters: {t: 0.25}
      - sources: [{model: ./base, layer_range: [2, 3]}, {model: ./ft1, layer_range: [2, 3]}]
    parameters: {t: 0.75}
  vision_tower: {models: [{model: ./base}, {model: ./ft1}]}
  multi_modal_projector: {models: [{model: ./base}, {model: ./ft1}]}
parameters: {t: 0.5}
`,
    );
    const slerp = (t: number) =>
      `merge_method: slerp\nbase_model: ./base\nmodels: [{model: ./base}, {model: ./ft1}]\nparameters: {t: ${t}}\n`;
    const quarter = await merge(dir, "q", slerp(0.25));
    const threeQuarters = await merge(dir, "tq", slerp(0.75));
    const half = await merge(dir, "h", slerp(0.5));
    expectSame(modules, quarter, (n) => /^model\.(embed_tokens|layers\.[01]\.)/.test(n));
    expectSame(modules, threeQuarters, (n) => /^(model\.layers\.2\.|model\.norm|lm_head)/.test(n));
    expectSame(modules, half, (n) => n.startsWith("visual."));
  });
});

describe("modules: a stacked module", () => {
  it("renumbers its layers from 0, sets text_config.num_hidden_layers and layer_types, leaves the vision tower alone", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, GEMMA);
    const out = await merge(
      dir,
      "stack",
      `merge_method: passthrough
modules:
  text_decoder:
    slices:
      - sources: [{model: ./ft1, layer_range: [0, 2]}]
      - sources: [{model: ./ft2, layer_range: [1, 3]}]
  vision_tower:
    models: [{model: ./ft1}]
  multi_modal_projector:
    models: [{model: ./ft2}]
`,
    );
    const ft1 = await tensorsOf(join(dir, "ft1"));
    const ft2 = await tensorsOf(join(dir, "ft2"));
    const text = (i: number) => `language_model.model.layers.${i}.self_attn.q_proj.weight`;
    expect(out.get(text(0))!.equals(ft1.get(text(0))!)).toBe(true);
    expect(out.get(text(1))!.equals(ft1.get(text(1))!)).toBe(true);
    expect(out.get(text(2))!.equals(ft2.get(text(1))!)).toBe(true);
    expect(out.get(text(3))!.equals(ft2.get(text(2))!)).toBe(true);
    expect(
      out
        .get("language_model.model.embed_tokens.weight")!
        .equals(ft1.get("language_model.model.embed_tokens.weight")!),
    ).toBe(true);
    expect(out.get("language_model.lm_head.weight")!.equals(ft2.get("language_model.lm_head.weight")!)).toBe(
      true,
    );
    expectSame(out, ft1, (n) => n.startsWith("vision_tower."));
    expectSame(out, ft2, (n) => n.startsWith("multi_modal_projector."));
    // Modules in manifest order; within the stacked one: pre-weights, layers, post-weights.
    const names = [...out.keys()];
    expect(names[0]).toBe("language_model.model.embed_tokens.weight");
    expect(names.indexOf("language_model.lm_head.weight")).toBeLessThan(
      names.indexOf("vision_tower.vision_model.embeddings.patch_embedding.weight"),
    );
    expect(names.slice(-2)).toEqual([
      "multi_modal_projector.mm_input_projection_weight",
      "multi_modal_projector.mm_soft_emb_norm.weight",
    ]);
    const config = await configOf(join(dir, "stack"));
    expect(config["text_config"]).toMatchObject({
      num_hidden_layers: 4,
      layer_types: ["sliding_attention", "full_attention", "full_attention", "sliding_attention"],
    });
    expect(config["vision_config"]).toMatchObject({ num_hidden_layers: 2 });
    expect(config["num_hidden_layers"]).toBeUndefined();
  });

  it("stacks a vision tower under vision_config.depth (Qwen2-VL), its blocks renumbered within the tower", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, QWEN, 1);
    const out = await merge(
      dir,
      "tower",
      `merge_method: passthrough
modules:
  vision_tower:
    slices:
      - sources: [{model: ./base, layer_range: [2, 4]}]
      - sources: [{model: ./ft1, layer_range: [0, 4]}]
  text_decoder: {models: [{model: ./base}]}
  multi_modal_projector: {models: [{model: ./base}]}
`,
    );
    const ft1 = await tensorsOf(join(dir, "ft1"));
    const base = await tensorsOf(join(dir, "base"));
    expect(
      out.get("visual.blocks.0.attn.qkv.weight")!.equals(base.get("visual.blocks.2.attn.qkv.weight")!),
    ).toBe(true);
    expect(
      out.get("visual.blocks.5.attn.qkv.weight")!.equals(ft1.get("visual.blocks.3.attn.qkv.weight")!),
    ).toBe(true);
    expect(out.has("visual.blocks.6.attn.qkv.weight")).toBe(false);
    const config = await configOf(join(dir, "tower"));
    expect(config).toMatchObject({ num_hidden_layers: 3, vision_config: { depth: 6, embed_dim: 6 } });
  });

  it("a config that repeats the text count (top level and text_config) gets both rewritten", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, { ...QWEN, layout: "qwen2vl-new" }, 1);
    await merge(
      dir,
      "new",
      `merge_method: passthrough
modules:
  text_decoder:
    slices: [{sources: [{model: ./ft1, layer_range: [0, 3]}]}, {sources: [{model: ./base, layer_range: [1, 3]}]}]
  vision_tower: {models: [{model: ./base}]}
  multi_modal_projector: {models: [{model: ./base}]}
`,
    );
    expect(await configOf(join(dir, "new"))).toMatchObject({
      num_hidden_layers: 5,
      text_config: { num_hidden_layers: 5 },
      vision_config: { depth: 4 },
    });
  });
});

describe("modules: default", () => {
  const DARE = (inputs: string) => `merge_method: dare_ties
base_model: ./base
${inputs}
dtype: float32
hubmerge: {seed: 7}
`;

  it("`modules: {default: {models}}` on a llama-style model writes the plain merge's bytes", async () => {
    const dir = await tempDir();
    await writeFamily(dir, { spec: { ...TEST_LLAMA, dtype: "F32" } });
    const models =
      "  - {model: ./ft1, parameters: {weight: 0.6, density: 0.4}}\n  - {model: ./ft2, parameters: {weight: 0.4, density: 0.7}}";
    await runMerge({
      manifestPath: await writeManifest(dir, DARE(`models:\n${models}`), "plain.yaml"),
      out: join(dir, "plain"),
    });
    const modules = DARE(`modules:\n  default:\n    models:\n  ${models.replace(/\n/g, "\n  ")}`);
    await runMerge({
      manifestPath: await writeManifest(dir, modules, "modules.yaml"),
      out: join(dir, "modules"),
    });
    for (const file of ["model.safetensors", "config.json"]) {
      const [a, b] = await Promise.all([
        readFile(join(dir, "plain", file)),
        readFile(join(dir, "modules", file)),
      ]);
      expect(a.equals(b), file).toBe(true);
    }
  });

  it("`modules: {default: {slices}}` equals top-level slices, config.json included", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const slices =
      "  - sources: [{model: ./ft1, layer_range: [0, 2]}]\n  - sources: [{model: ./ft2, layer_range: [1, 3]}]";
    const plain = `merge_method: passthrough\nslices:\n${slices}\n`;
    const modules = `merge_method: passthrough\nmodules:\n  default:\n    slices:\n  ${slices.replace(/\n/g, "\n  ")}\n`;
    await runMerge({ manifestPath: await writeManifest(dir, plain, "plain.yaml"), out: join(dir, "plain") });
    await runMerge({
      manifestPath: await writeManifest(dir, modules, "modules.yaml"),
      out: join(dir, "modules"),
    });
    for (const file of ["model.safetensors", "config.json"]) {
      const [a, b] = await Promise.all([
        readFile(join(dir, "plain", file)),
        readFile(join(dir, "modules", file)),
      ]);
      expect(a.equals(b), file).toBe(true);
    }
    expect((await configOf(join(dir, "modules")))["num_hidden_layers"]).toBe(4);
  });
});
