/**
 * `modules:` refusals at plan time, each with its message and the manifest position: an unknown
 * module (did you mean, the architecture named), a module left out (mergekit would drop it), a
 * tensor no module claims, a module on an architecture hubmerge cannot split, top-level slices on
 * a multi-module model, and slices a module's stack cannot hold.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeModels, planRun, type PlannedRun } from "../../src/pipeline/index.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { writeVlm, writeVlmFamily } from "../support/vlm-models.js";
import { rejection } from "./helpers.js";

let dir: string;
const opened: PlannedRun[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((planned) => closeModels(planned.models)));
});

// One set of models for the whole file: every test only plans.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-modules-"));
  await writeVlmFamily(join(dir, "qwen"), { layout: "qwen2vl", textLayers: 3, visionLayers: 4 }, 1);
  await writeVlm(
    join(dir, "qwen", "odd"),
    { layout: "qwen2vl", textLayers: 3, visionLayers: 4, extraTensors: ["audio.proj.weight"] },
    { baseSeed: 7 },
  );
  await writeFamily(join(dir, "llama"), { fineTunes: 1 });
  return () => rm(dir, { recursive: true, force: true });
});

async function plan(family: "qwen" | "llama", text: string) {
  const manifestPath = await writeManifest(
    join(dir, family),
    text,
    `m${Math.random().toString(36).slice(2)}.yaml`,
  );
  const planned = await planRun({ manifestPath });
  opened.push(planned);
  return { planned, manifestPath };
}

async function fails(family: "qwen" | "llama", text: string, code: string) {
  const manifestPath = await writeManifest(
    join(dir, family),
    text,
    `m${Math.random().toString(36).slice(2)}.yaml`,
  );
  const error = await rejection(planRun({ manifestPath }), code);
  return { error, manifestPath };
}

const ALL = `  vision_tower: {models: [{model: ./base}, {model: ./ft1}]}
  multi_modal_projector: {models: [{model: ./base}, {model: ./ft1}]}
`;

describe("modules: refusals at plan time", () => {
  it("an unknown module gets 'did you mean' over the detected architecture's modules", async () => {
    const { error, manifestPath } = await fails(
      "qwen",
      `merge_method: linear\nparameters: {weight: 1}\nmodules:\n  text_decodr: {models: [{model: ./base}]}\n${ALL}`,
      "E_MANIFEST",
    );
    expect(error.message).toBe(
      "Qwen2VLForConditionalGeneration has no module `text_decodr`; did you mean `text_decoder`?",
    );
    expect(error.where).toMatchObject({ file: manifestPath, line: 4, column: 3 });
    expect(error.hint).toMatch(/`text_decoder`, `multi_modal_projector` or `vision_tower`/);
  });

  it("a module left out is refused, with its tensor count and the fix that keeps the base's", async () => {
    const { error, manifestPath } = await fails(
      "qwen",
      `merge_method: slerp
base_model: ./base
parameters: {t: 0.5}
modules:
  text_decoder: {models: [{model: ./base}, {model: ./ft1}]}
  vision_tower: {models: [{model: ./base}, {model: ./ft1}]}
`,
      "E_MANIFEST",
    );
    expect(error.message).toMatch(
      /^`modules` leaves out `multi_modal_projector` \(3 tensors\) of .*base; mergekit would drop its tensors, and the output would not load\.$/,
    );
    expect(error.where).toMatchObject({ file: manifestPath, line: 4, column: 1 });
    expect(error.hint).toContain("`multi_modal_projector: {models: [{model: ./base}]}`");
  });

  it("without a base model the fix names the first model; two missing modules are both listed", async () => {
    const { error } = await fails(
      "qwen",
      "merge_method: linear\nparameters: {weight: 1}\nmodules:\n  text_decoder: {models: [{model: ./ft1}]}\n",
      "E_MANIFEST",
    );
    expect(error.message).toMatch(
      /leaves out `multi_modal_projector` \(3 tensors\), `vision_tower` \(13 tensors\)/,
    );
    expect(error.hint).toContain("`vision_tower: {models: [{model: ./ft1}]}`");
  });

  it("a tensor no module claims is refused, naming the tensor, the model and the modules", async () => {
    const { error } = await fails(
      "qwen",
      `merge_method: linear\nparameters: {weight: 1}\nmodules:\n  text_decoder: {models: [{model: ./base}, {model: ./odd}]}\n${ALL}`,
      "E_INCOMPATIBLE",
    );
    expect(error.message).toMatch(
      /tensor audio\.proj\.weight belongs to none of Qwen2VLForConditionalGeneration's modules/,
    );
    expect(error.where).toMatchObject({ tensor: "audio.proj.weight" });
    expect(error.where.model).toMatch(/odd$/);
  });

  it("a module other than `default` on an architecture hubmerge cannot split says so", async () => {
    const { error, manifestPath } = await fails(
      "llama",
      "merge_method: linear\nparameters: {weight: 1}\nmodules:\n  text_decoder: {models: [{model: ./base}, {model: ./ft1}]}\n",
      "E_MANIFEST",
    );
    expect(error.message).toBe(
      "`text_decoder` is not a module of LlamaForCausalLM: hubmerge cannot split this architecture into modules, so its one module is `default`.",
    );
    expect(error.where).toMatchObject({ file: manifestPath, line: 4, column: 3 });
  });

  it("top-level slices on a multi-module model are refused (mergekit's rule), pointing at `modules`", async () => {
    const { error, manifestPath } = await fails(
      "qwen",
      "merge_method: passthrough\nslices:\n  - sources: [{model: ./base, layer_range: [0, 2]}]\n",
      "E_MANIFEST",
    );
    expect(error.message).toMatch(/Qwen2VLForConditionalGeneration has several modules/);
    expect(error.where).toMatchObject({ file: manifestPath, line: 2, column: 1 });
    expect(error.hint).toMatch(/modules: \{text_decoder: \{slices/);
  });

  it("a layer_range past the module's own stack is refused at the source", async () => {
    const { error, manifestPath } = await fails(
      "qwen",
      `merge_method: passthrough
modules:
  text_decoder:
    slices:
      - sources: [{model: ./base, layer_range: [0, 4]}]
  vision_tower: {models: [{model: ./base}]}
  multi_modal_projector: {models: [{model: ./base}]}
`,
      "E_MANIFEST",
    );
    expect(error.message).toMatch(/layer_range \[0, 4\] reaches past the 3 layers of module `text_decoder`/);
    expect(error.where).toMatchObject({ file: manifestPath, line: 5, column: 19 });
  });

  it("slices on a module without a layer stack (a projector) are refused with the models: fix", async () => {
    const { error } = await fails(
      "qwen",
      `merge_method: passthrough
modules:
  text_decoder: {models: [{model: ./base}]}
  vision_tower: {models: [{model: ./base}]}
  multi_modal_projector:
    slices: [{sources: [{model: ./base, layer_range: [0, 1]}]}]
`,
      "E_MANIFEST",
    );
    expect(error.message).toMatch(/module `multi_modal_projector` has no layer stack/);
    expect(error.hint).toContain("`multi_modal_projector: {models: [{model: ./base}]}`");
  });
});

describe("modules: the plan", () => {
  it("lists each module with its input, sources, layer count and tensors", async () => {
    const { planned } = await plan(
      "qwen",
      `merge_method: passthrough
modules:
  text_decoder:
    slices:
      - sources: [{model: ./base, layer_range: [0, 3]}]
      - sources: [{model: ./ft1, layer_range: [2, 3]}]
  vision_tower: {models: [{model: ./base}]}
  multi_modal_projector: {models: [{model: ./ft1}]}
`,
    );
    expect(planned.plan.modules!.map((m) => m.text)).toEqual([
      "text_decoder: slices ./base [0, 3), ./ft1 [2, 3) → 4 layers, 15 tensors",
      "vision_tower: models ./base → 4 layers, 13 tensors",
      "multi_modal_projector: models ./ft1 → 0 layers, 3 tensors",
    ]);
  });
});

describe("top-level models on a multi-module model (mergekit plans them per module too)", () => {
  it("a gradient runs over each module's own layers: the vision tower's t reaches 1 at its last block", async () => {
    const { planned } = await plan(
      "qwen",
      "merge_method: slerp\nbase_model: ./base\nmodels: [{model: ./base}, {model: ./ft1}]\nparameters: {t: [0, 0.5, 1]}\n",
    );
    const t = (name: string) => planned.plan.recipes.find((r) => r.name === name)!.global["t"];
    // The text stack has 3 layers, the tower 4 blocks: each counts its own (before, the tower's
    // blocks were placed in the text stack, and block 3 read the gradient at t = 1.5: NaN).
    expect(t("model.layers.2.mlp.up_proj.weight")).toBe(1);
    expect(t("visual.blocks.3.attn.qkv.weight")).toBe(1);
    expect(t("visual.blocks.1.attn.qkv.weight")).toBeCloseTo(1 / 3, 15);
    expect(t("visual.merger.mlp.0.weight")).toBe(0);
  });
});

describe("slice parameters reach the method's global parameters (mergekit's ConfigReader)", () => {
  it("slerp's t set only per slice plans, and each slice's layers take their slice's t", async () => {
    const { planned } = await plan(
      "llama",
      `merge_method: slerp
base_model: ./base
slices:
  - sources: [{model: ./base, layer_range: [0, 2]}, {model: ./ft1, layer_range: [0, 2]}]
    parameters: {t: 0.2}
  - sources: [{model: ./base, layer_range: [2, 3]}, {model: ./ft1, layer_range: [2, 3]}]
    parameters: {t: 0.9}
`,
    );
    const t = (name: string) => planned.plan.recipes.find((r) => r.name === name)!.global["t"];
    expect(t("model.embed_tokens.weight")).toBe(0.2);
    expect(t("model.layers.1.mlp.up_proj.weight")).toBe(0.2);
    expect(t("model.layers.2.mlp.up_proj.weight")).toBe(0.9);
    expect(t("lm_head.weight")).toBe(0.9);
  });
});
