/**
 * A slice's own `base_model` (mergekit's `OutputSliceDefinition.base_model`): the slice's layers
 * are merged against it, the tensors before the stack against the first slice's base and those
 * after it against the last slice's. Checked to the byte against two plain merges stitched.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { closeModels, planRun, runMerge } from "../../../src/pipeline/index.js";
import { SafetensorsModel } from "../../../src/safetensors/reader.js";
import { LocalSource } from "../../../src/source/local-source.js";
import { writeFamily, writeManifest } from "../../support/models.js";

let dir: string;
const outputs = new Map<string, SafetensorsModel>();

const SLICED = `merge_method: task_arithmetic
base_model: ./base
slices:
  - sources:
      - {model: ./base, layer_range: [0, 2]}
      - {model: ./ft1, layer_range: [0, 2], parameters: {weight: 0.7}}
  - base_model: ./ft2
    sources:
      - {model: ./ft2, layer_range: [2, 3]}
      - {model: ./ft1, layer_range: [2, 3], parameters: {weight: 0.7}}
`;
/** The same merge of whole models, once against each base. */
const plain = (base: string): string => `merge_method: task_arithmetic
base_model: ${base}
models:
  - {model: ./ft1, parameters: {weight: 0.7}}
`;

async function merge(name: string, text: string): Promise<SafetensorsModel> {
  const manifestPath = await writeManifest(dir, text, `${name}.yaml`);
  const out = join(dir, name);
  await runMerge({ manifestPath, out });
  const model = await SafetensorsModel.open(new LocalSource(out, out));
  outputs.set(name, model);
  return model;
}

async function bytes(model: SafetensorsModel, name: string): Promise<Buffer> {
  return Buffer.from(await model.readTensorBytes(name));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-slice-base-"));
  await writeFamily(dir);
  await merge("sliced", SLICED);
  await merge("againstBase", plain("./base"));
  await merge("againstFt2", plain("./ft2"));
});

afterAll(async () => {
  await Promise.all([...outputs.values()].map((m) => m.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("a slice with its own base_model", () => {
  it("merges each slice's layers against its own base, to the bytes of the plain merges", async () => {
    const sliced = outputs.get("sliced")!;
    const againstBase = outputs.get("againstBase")!;
    const againstFt2 = outputs.get("againstFt2")!;
    const layerNames = sliced.tensorNames().filter((n) => n.startsWith("model.layers."));
    expect(layerNames.length).toBeGreaterThan(0);
    let differing = 0;
    for (const name of layerNames) {
      const layer = Number(/^model\.layers\.(\d+)\./.exec(name)![1]);
      const expected = layer < 2 ? againstBase : againstFt2;
      expect(await bytes(sliced, name), name).toEqual(await bytes(expected, name));
      if (layer === 2 && !(await bytes(againstBase, name)).equals(await bytes(againstFt2, name))) differing++;
    }
    // The two bases give other bytes, so the test tells them apart.
    expect(differing).toBeGreaterThan(0);
  });

  it("takes the tensors before the stack from the first slice's base, after it from the last's", async () => {
    const sliced = outputs.get("sliced")!;
    const againstBase = outputs.get("againstBase")!;
    const againstFt2 = outputs.get("againstFt2")!;
    const embed = "model.embed_tokens.weight";
    expect(await bytes(sliced, embed)).toEqual(await bytes(againstBase, embed));
    for (const name of ["model.norm.weight", "lm_head.weight"]) {
      expect(await bytes(sliced, name), name).toEqual(await bytes(againstFt2, name));
      expect(await bytes(againstBase, name)).not.toEqual(await bytes(againstFt2, name));
    }
  });

  it("keeps the top-level base as the output's reference (config)", async () => {
    const manifestPath = await writeManifest(dir, SLICED, "plan.yaml");
    const planned = await planRun({ manifestPath });
    try {
      expect(planned.plan.referenceModel).toBe(planned.plan.recipes[0]!.base!.model);
      expect(planned.plan.referenceModel).toMatch(/base$/);
      const ref = planned.plan.recipes.find((r) => r.name === "model.layers.2.mlp.up_proj.weight")!;
      expect(ref.base!.model).toMatch(/ft2$/);
    } finally {
      await closeModels(planned.models);
    }
  });

  it("uses the first slice's base as the reference when there is no top-level base", async () => {
    const text = SLICED.replace("base_model: ./base\n", "").replace(
      "  - sources:\n",
      "  - base_model: ./base\n    sources:\n",
    );
    const manifestPath = await writeManifest(dir, text, "no-top.yaml");
    const planned = await planRun({ manifestPath });
    try {
      expect(planned.plan.referenceModel).toMatch(/base$/);
    } finally {
      await closeModels(planned.models);
    }
  });

  it("names every slice's own base as a base in the card, also without a top-level base", async () => {
    const card = await readFile(join(dir, "sliced", "README.md"), "utf8");
    expect(card).toMatch(/\| \S*base\S* \| base \|/);
    expect(card).toMatch(/\| \S*ft2\S* \| base \|/);
    expect(card).toMatch(/\| \S*ft1\S* \| merged \|/);
    const text = SLICED.replace("base_model: ./base\n", "").replace(
      "  - sources:\n",
      "  - base_model: ./base\n    sources:\n",
    );
    await merge("noTop", text);
    const noTop = await readFile(join(dir, "noTop", "README.md"), "utf8");
    expect(noTop).toMatch(/\| \S*base\S* \| base \|/);
    expect(noTop).toMatch(/\| \S*ft2\S* \| base \|/);
  });

  it("refuses a slice whose own base is not among its sources, at the slice's base_model", async () => {
    const text = SLICED.replace("base_model: ./ft2", "base_model: ./ft1").replace(
      "      - {model: ./ft1, layer_range: [2, 3], parameters: {weight: 0.7}}\n",
      "",
    );
    const manifestPath = await writeManifest(dir, text, "missing.yaml");
    let caught: unknown;
    try {
      await planRun({ manifestPath });
    } catch (error) {
      caught = error;
    }
    if (!isHubmergeError(caught)) throw new Error(`expected a HubmergeError, got ${String(caught)}`);
    expect(caught.code).toBe("E_MANIFEST");
    expect(caught.message).toMatch(
      /no source from this slice's base model \.\/ft1, which task_arithmetic needs/,
    );
    expect({ line: caught.where.line, column: caught.where.column }).toEqual({ line: 7, column: 17 });
  });
});
