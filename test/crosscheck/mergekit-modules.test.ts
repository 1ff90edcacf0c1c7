/**
 * `modules:` merges through the real CLI, checked against an independent numpy re-implementation
 * of mergekit's plan (mergekit_modules.py: normalize_config, plan_module, ConfigReader's
 * precedence, gradients, linear/slerp/ties in f32). Needs a python3 with numpy (not a
 * dependency), so the test is skipped elsewhere.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { useTempDirs } from "../support/tmp.js";
import { writeVlm, type VlmSpec } from "../support/vlm-models.js";

const PYTHON = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import numpy"], { stdio: "ignore" }).status === 0,
);
const SCRIPT = fileURLToPath(new URL("./mergekit_modules.py", import.meta.url));

const tempDir = useTempDirs();

interface Report {
  compared: number;
  missing: string[];
  extra: string[];
  max_ulp: number;
  max_scaled: number;
  diffs: { tensor: string; ulps?: number }[];
  config_diffs: unknown[];
  config_counts: Record<string, number>;
  /** config.json keys whose value is not the base's. */
  config_changed: string[];
  slerp_paths: { lerp: number; slerp: number };
}

/** base, two close fine-tunes and a distant model (another seed: true slerp, mixed ties signs). */
async function family(root: string, spec: VlmSpec): Promise<Record<string, string>> {
  await writeVlm(join(root, "base"), spec, { baseSeed: 7 });
  await writeVlm(join(root, "ft1"), spec, { baseSeed: 7, delta: { seed: 201, std: 0.02 } });
  await writeVlm(join(root, "ft2"), spec, { baseSeed: 7, delta: { seed: 202, std: 0.02 } });
  await writeVlm(join(root, "far"), spec, { baseSeed: 8 });
  // Manifests take folders relative to themselves.
  return { base: "./base", ft1: "./ft1", ft2: "./ft2", far: "./far" };
}

type Config = Record<string, unknown>;

/** Runs the numpy plan for one case and compares it with hubmerge's output. */
function compare(root: string, name: string, kase: Record<string, unknown>): Report {
  const casePath = join(root, `${name}.case.json`);
  writeFileSync(casePath, JSON.stringify(kase));
  const run = spawnSync(PYTHON!, [SCRIPT, casePath], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

async function crossCheck(
  root: string,
  name: string,
  config: Config,
  quirks: string[] = [],
): Promise<Report> {
  const manifest = join(root, `${name}.yaml`);
  await writeFile(manifest, JSON.stringify({ dtype: "float32", ...config }, null, 1)); // YAML reads JSON
  const out = join(root, `out-${name}`);
  const merge = await runCli(["merge", manifest, "--out", out, "-q", "--allow-incompatible"]);
  expect(merge.code, merge.stderr).toBe(0);
  const report = compare(root, name, { config, out, root, quirks });
  expect(report.missing).toEqual([]);
  expect(report.extra).toEqual([]);
  expect(report.config_diffs).toEqual([]);
  if (process.env.XCHECK_VERBOSE) console.log(name, JSON.stringify(report));
  return report;
}

describe.skipIf(PYTHON === undefined)("modules: against mergekit's plan, re-implemented in numpy", () => {
  it("Gemma 3: slerp (module gradient, module t over global, filters), ties, linear with stacked slices", async () => {
    const root = await tempDir();
    const m = await family(root, { layout: "gemma3", textLayers: 4, visionLayers: 3 });

    const slerp = await crossCheck(root, "g-slerp", {
      merge_method: "slerp",
      base_model: m.base,
      parameters: { t: 0.4 },
      modules: {
        text_decoder: { models: [{ model: m.base }, { model: m.far }], parameters: { t: [0, 0.3, 0.8, 1] } },
        vision_tower: {
          models: [{ model: m.far }],
          parameters: { t: [{ filter: "q_proj", value: 0.9 }, { value: [0.1, 0.7] }] },
        },
        multi_modal_projector: { models: [{ model: m.base }, { model: m.far }] },
      },
    });
    expect(slerp.slerp_paths.slerp).toBeGreaterThan(0);
    expect(slerp.max_scaled).toBeLessThanOrEqual(4);

    const ties = await crossCheck(root, "g-ties", {
      merge_method: "ties",
      base_model: m.base,
      parameters: { weight: 0.5, density: 0.7 },
      modules: {
        text_decoder: {
          models: [
            { model: m.ft1, parameters: { weight: 0.6, density: 0.5 } },
            { model: m.ft2, parameters: { weight: [0.2, 1.0] } },
          ],
          parameters: { density: 0.9 },
        },
        vision_tower: {
          models: [{ model: m.base }, { model: m.ft1 }, { model: m.far, parameters: { weight: 0.3 } }],
          parameters: { normalize: false, lambda: 0.8 },
        },
        multi_modal_projector: { models: [{ model: m.ft2 }] },
      },
    });
    expect(ties.max_ulp).toBeLessThanOrEqual(1);

    const linear = await crossCheck(root, "g-linear", {
      merge_method: "linear",
      parameters: { normalize: true },
      modules: {
        text_decoder: {
          parameters: { weight: 0.5, normalize: false },
          slices: [
            {
              sources: [
                { model: m.base, layer_range: [0, 2] },
                { model: m.ft1, layer_range: [1, 3], parameters: { weight: 0.3 } },
              ],
              parameters: { weight: 0.8 },
            },
            {
              sources: [
                { model: m.ft2, layer_range: [1, 3] },
                // Per-model filters match the source tensor (layers.0), not the output (layers.2).
                {
                  model: m.far,
                  layer_range: [0, 2],
                  parameters: { weight: [{ filter: "layers.0.", value: 3 }, { value: [1, 0] }] },
                },
              ],
              // Global parameters' filters match the output tensor.
              parameters: { normalize: [{ filter: "layers.3.", value: true }, { value: false }] },
            },
            {
              sources: [
                { model: m.ft1, layer_range: [3, 4] },
                { model: m.ft2, layer_range: [3, 4] },
              ],
              parameters: { normalize: true, weight: [{ filter: "norm", value: 2 }] },
            },
          ],
        },
        vision_tower: {
          models: [
            { model: m.base, parameters: { weight: [1, 0.2] } },
            { model: m.ft1, parameters: { weight: 0.5 } },
          ],
        },
        multi_modal_projector: {
          models: [
            { model: m.base, parameters: { weight: 1 } },
            { model: m.ft1, parameters: { weight: 2 } },
          ],
          parameters: { normalize: false },
        },
      },
    });
    // Top-level models on a multi-module model: mergekit makes them every module's models, so a
    // gradient runs over each module's own layers.
    const top = await crossCheck(root, "g-top", {
      merge_method: "slerp",
      base_model: m.base,
      models: [{ model: m.base }, { model: m.far }],
      parameters: { t: [{ filter: "mlp", value: 0.3 }, { value: [0.2, 0.9] }] },
    });
    expect(top.compared).toBe(25);
    expect(top.max_scaled).toBeLessThanOrEqual(4);

    expect(linear.config_counts).toEqual({ "text_config.num_hidden_layers": 5 });
    // mergekit leaves layer_types at the base's 4 entries; hubmerge rebuilds it for the 5 layers.
    expect(linear.config_changed).toEqual(["text_config.layer_types", "text_config.num_hidden_layers"]);
    expect([slerp, ties].map((r) => r.config_changed)).toEqual([[], []]);
    expect(linear.max_ulp).toBe(0);
  });

  it("Qwen2-VL: slerp with a stacked text decoder and slice gradients, ties with a stacked vision tower", async () => {
    const root = await tempDir();
    const m = await family(root, { layout: "qwen2vl", textLayers: 3, visionLayers: 4 });

    const slerp = await crossCheck(root, "q-slerp", {
      merge_method: "slerp",
      base_model: m.base,
      parameters: { t: 0.5 },
      modules: {
        text_decoder: {
          parameters: { t: 0.6 },
          slices: [
            {
              sources: [
                { model: m.base, layer_range: [0, 2] },
                { model: m.far, layer_range: [0, 2] },
              ],
              parameters: { t: [0, 1] },
            },
            {
              sources: [
                { model: m.base, layer_range: [1, 3] },
                { model: m.far, layer_range: [1, 3] },
              ],
              parameters: { t: 0.25 },
            },
          ],
        },
        vision_tower: { models: [{ model: m.base }, { model: m.ft1 }], parameters: { t: [0.1, 0.9] } },
        // No gradient here: mergekit plans the merger's weights twice, at t = 0 and t = 1.
        multi_modal_projector: { models: [{ model: m.base }, { model: m.far }] },
      },
    });
    expect(slerp.config_counts).toEqual({ num_hidden_layers: 4 });
    expect(slerp.config_changed).toEqual(["num_hidden_layers"]);
    expect(slerp.slerp_paths.slerp).toBeGreaterThan(0);
    expect(slerp.max_scaled).toBeLessThanOrEqual(4);

    const ties = await crossCheck(root, "q-ties", {
      merge_method: "ties",
      base_model: m.base,
      parameters: { weight: 1, density: 0.6 },
      modules: {
        text_decoder: { models: [{ model: m.ft1 }, { model: m.ft2, parameters: { weight: 0.5 } }] },
        vision_tower: {
          slices: [
            {
              sources: [
                { model: m.base, layer_range: [0, 3] },
                { model: m.ft1, layer_range: [1, 4], parameters: { weight: 0.7 } },
              ],
            },
            {
              sources: [
                { model: m.base, layer_range: [2, 4] },
                { model: m.ft2, layer_range: [0, 2], parameters: { density: [0.3, 1] } },
              ],
              parameters: { weight: 0.4 },
            },
          ],
        },
        multi_modal_projector: { models: [{ model: m.ft1 }, { model: m.far }] },
      },
    });
    expect(ties.config_counts).toEqual({ "vision_config.depth": 5 });
    expect(ties.config_changed).toEqual(["vision_config.depth"]);
    expect(ties.max_ulp).toBeLessThanOrEqual(1);

    // A last slice with more sources than the first: mergekit zips the final norm's and
    // lm_head's sources with the first slice's count and so drops ft2 from them; hubmerge merges
    // them from every source of the last slice. Everything else is mergekit's, to the bit.
    const qLinear: Config = {
      merge_method: "linear",
      modules: {
        text_decoder: {
          slices: [
            {
              sources: [
                { model: m.base, layer_range: [0, 2], parameters: { weight: 0.7 } },
                { model: m.ft1, layer_range: [0, 2], parameters: { weight: 0.3 } },
              ],
            },
            {
              sources: [
                { model: m.base, layer_range: [2, 3], parameters: { weight: 1 } },
                { model: m.ft1, layer_range: [2, 3], parameters: { weight: 2 } },
                { model: m.ft2, layer_range: [1, 2], parameters: { weight: 4 } },
              ],
            },
          ],
        },
        vision_tower: { models: [{ model: m.ft1, parameters: { weight: 1 } }] },
        multi_modal_projector: { models: [{ model: m.ft2, parameters: { weight: 1 } }] },
      },
    };
    const linear = await crossCheck(root, "q-linear", qLinear, ["post_all_sources"]);
    expect(linear.max_ulp).toBe(0);
    const asMergekit = compare(root, "q-linear-mk", {
      config: qLinear,
      out: join(root, "out-q-linear"),
      root,
    });
    expect(asMergekit.diffs.map((d) => d.tensor)).toEqual(["model.norm.weight", "lm_head.weight"]);
  });
});
