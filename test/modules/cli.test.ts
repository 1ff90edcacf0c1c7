/**
 * examples/modules/merge.yaml through the real CLI, against generated Qwen2-VL-shaped models with
 * the example's names: `plan` prints a line per module, `merge` writes a folder that opens, whose
 * config.json and card say what the modules are.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { writeVlm, type VlmSpec } from "../support/vlm-models.js";
import { configOf, tensorsOf } from "./helpers.js";

const tempDir = useTempDirs();

const SPEC: VlmSpec = { layout: "qwen2vl", textLayers: 3, visionLayers: 4 };

describe("examples/modules/merge.yaml through the CLI", () => {
  it("plans a line per module and merges into a folder that loads, with the right config.json and card", async () => {
    const root = await tempDir();
    await writeVlm(join(root, "models", "base"), SPEC, { baseSeed: 7 });
    await writeVlm(join(root, "models", "chat"), SPEC, { baseSeed: 7, delta: { seed: 301, std: 0.004 } });
    await writeVlm(join(root, "models", "vision"), SPEC, { baseSeed: 7, delta: { seed: 302, std: 0.004 } });
    const text = await readFile(new URL("../../examples/modules/merge.yaml", import.meta.url), "utf8");
    const manifest = await writeManifest(root, text);

    const plan = await runCli(["plan", manifest]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(
      "module text_decoder: models ./models/base, ./models/chat → 3 layers, 12 tensors",
    );
    expect(plan.stdout).toContain(
      "module vision_tower: models ./models/base, ./models/vision → 4 layers, 13 tensors",
    );
    expect(plan.stdout).toContain(
      "module multi_modal_projector: models ./models/base, ./models/vision → 0 layers, 3 tensors",
    );

    const out = join(root, "out");
    const merge = await runCli(["merge", manifest, "--out", out, "-q"]);
    expect(merge.stderr).not.toMatch(/E_|error/i);
    expect(merge.code).toBe(0);
    const tensors = await tensorsOf(out);
    expect(tensors.size).toBe(12 + 13 + 3);
    expect([...tensors.keys()][0]).toBe("model.embed_tokens.weight");
    const config = await configOf(out);
    expect(config).toMatchObject({
      architectures: ["Qwen2VLForConditionalGeneration"],
      num_hidden_layers: 3,
      vision_config: { depth: 4 },
      torch_dtype: "bfloat16",
    });
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).toContain("- module `text_decoder` (3 layers): t = `[0.2,0.6,0.2]`");
    expect(card).toContain("- module `vision_tower` (4 layers): t = `0.7`");
    expect(card).toContain("  - `./models/vision`: defaults");
  });
});
