/**
 * A slice's own `base_model` inside `modules:`: the module's pre-weights take the first slice's
 * base and its post-weights the last slice's (mergekit's `plan_module`), and the bytes equal the
 * plain merge against that base.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMerge } from "../../src/pipeline/index.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { writeVlmFamily } from "../support/vlm-models.js";
import { tensorsOf } from "./helpers.js";

const tempDir = useTempDirs();

async function merge(dir: string, name: string, text: string): Promise<Map<string, Buffer>> {
  const manifestPath = await writeManifest(dir, text, `${name}.yaml`);
  await runMerge({ manifestPath, out: join(dir, name) });
  return tensorsOf(join(dir, name));
}

const plain = (base: string): string => `merge_method: task_arithmetic
base_model: ${base}
models: [{model: ./ft1, parameters: {weight: 0.6}}]
`;

describe("a module's slice with its own base_model", () => {
  it("merges the slice, and the module's post-weights, against the slice's base", async () => {
    const dir = await tempDir();
    await writeVlmFamily(dir, { layout: "qwen2vl", textLayers: 3, visionLayers: 2 }, 2);
    const out = await merge(
      dir,
      "sliced",
      `merge_method: task_arithmetic
base_model: ./base
modules:
  text_decoder:
    slices:
      - sources: [{model: ./base, layer_range: [0, 1]}, {model: ./ft1, layer_range: [0, 1]}]
      - base_model: ./ft2
        sources: [{model: ./ft2, layer_range: [1, 3]}, {model: ./ft1, layer_range: [1, 3]}]
  vision_tower: {models: [{model: ./ft1}]}
  multi_modal_projector: {models: [{model: ./ft1}]}
parameters: {weight: 0.6}
`,
    );
    const againstBase = await merge(dir, "a", plain("./base"));
    const againstFt2 = await merge(dir, "b", plain("./ft2"));
    const text = [...out.keys()].filter((n) => !n.startsWith("visual."));
    const expectedOf = (name: string) => {
      const layer = /\.layers\.(\d+)\./.exec(name)?.[1];
      if (layer !== undefined) return Number(layer) < 1 ? againstBase : againstFt2;
      return name.includes("embed_tokens") ? againstBase : againstFt2;
    };
    for (const name of text) expect(out.get(name)!.equals(expectedOf(name).get(name)!), name).toBe(true);
    for (const name of ["model.norm.weight", "lm_head.weight", "model.layers.2.mlp.up_proj.weight"]) {
      expect(text).toContain(name);
      expect(againstBase.get(name)!.equals(againstFt2.get(name)!), name).toBe(false);
    }
  });
});
