import { copyFile, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeFromF32, type FloatDType } from "../../src/safetensors/dtype.js";
import { SafetensorsModel } from "../../src/safetensors/reader.js";
import { planShards } from "../../src/safetensors/shard-plan.js";
import { ShardedWriter } from "../../src/safetensors/writer.js";
import { LocalSource } from "../../src/source/local-source.js";
import { gaussianFill } from "../../src/synth/gaussian.js";

export interface LoraSpec {
  rank: number;
  alpha: number;
  /** Linear modules per layer that get A/B pairs, e.g. `self_attn.q_proj`. */
  targets: string[];
  layers: number;
  /** Also an embedding adapter on `model.embed_tokens`. */
  embedding?: boolean;
  /** Also a full replacement of `lm_head` (PEFT's modules_to_save). */
  saveLmHead?: boolean;
  config?: Record<string, unknown>;
  dtype?: FloatDType;
}

async function writeSafetensors(
  path: string,
  tensors: { name: string; shape: number[]; values: Float32Array }[],
  dtype: FloatDType,
): Promise<void> {
  const dir = `${path}.d`;
  await mkdir(dir, { recursive: true });
  const plan = planShards(tensors.map((t) => ({ name: t.name, shape: t.shape, dtype })));
  const writer = new ShardedWriter({ dir, plan, metadata: { format: "pt" } });
  for (const t of tensors) await writer.writeTensor(t.name, encodeFromF32(t.values, dtype));
  await writer.finish();
  const [file] = (await readdir(dir)).filter((n) => n.endsWith(".safetensors"));
  await rename(join(dir, file!), path);
  await rm(dir, { recursive: true, force: true });
}

function fill(label: string, shape: number[], std: number): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  gaussianFill(values, label, std);
  return values;
}

/** A PEFT-style LoRA adapter for the base model in `baseDir`, written to `dir`. */
export async function writeLoraAdapter(dir: string, baseDir: string, spec: LoraSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  const base = await SafetensorsModel.open(new LocalSource(baseDir, baseDir));
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
  const r = spec.rank;
  try {
    for (let layer = 0; layer < spec.layers; layer++) {
      for (const target of spec.targets) {
        const module = `model.layers.${layer}.${target}`;
        const [out, inDim] = base.info(`${module}.weight`).shape as [number, number];
        const key = `base_model.model.${module}`;
        tensors.push({
          name: `${key}.lora_A.weight`,
          shape: [r, inDim],
          values: fill(`${key}:A`, [r, inDim], 0.1),
        });
        tensors.push({
          name: `${key}.lora_B.weight`,
          shape: [out, r],
          values: fill(`${key}:B`, [out, r], 0.05),
        });
      }
    }
    if (spec.embedding) {
      const [rows, dim] = base.info("model.embed_tokens.weight").shape as [number, number];
      const key = "base_model.model.model.embed_tokens";
      tensors.push({
        name: `${key}.lora_embedding_A`,
        shape: [r, rows],
        values: fill(`${key}:A`, [r, rows], 0.1),
      });
      tensors.push({
        name: `${key}.lora_embedding_B`,
        shape: [dim, r],
        values: fill(`${key}:B`, [dim, r], 0.05),
      });
    }
    if (spec.saveLmHead) {
      const shape = base.info("lm_head.weight").shape;
      tensors.push({
        name: "base_model.model.lm_head.weight",
        shape,
        values: fill("lm_head:saved", shape, 0.05),
      });
    }
  } finally {
    await base.close();
  }
  await writeSafetensors(join(dir, "adapter_model.safetensors"), tensors, spec.dtype ?? "F32");
  const config = {
    peft_type: "LORA",
    r: spec.rank,
    lora_alpha: spec.alpha,
    target_modules: spec.targets.map((t) => t.split(".").pop()),
    ...(spec.saveLmHead && { modules_to_save: ["lm_head"] }),
    ...spec.config,
  };
  await writeFile(join(dir, "adapter_config.json"), JSON.stringify(config, null, 2));
}

/**
 * The adapter merged into its base, written as a plain model: what PEFT's merge_and_unload and
 * save_pretrained would give, computed here on its own (the product B·A first, as a matrix).
 */
export async function materializeLora(
  baseDir: string,
  adapterDir: string,
  outDir: string,
  scale: number,
): Promise<void> {
  const f = Math.fround;
  await mkdir(outDir, { recursive: true });
  const base = await SafetensorsModel.open(new LocalSource(baseDir, baseDir));
  const lora = await SafetensorsModel.open(new LocalSource(adapterDir, adapterDir));
  const product = async (
    aName: string,
    bName: string,
  ): Promise<{ ba: Float32Array; rows: number; cols: number }> => {
    const [a, b] = [await lora.readTensorF32(aName), await lora.readTensorF32(bName)];
    const [r, cols] = lora.info(aName).shape as [number, number];
    const rows = lora.info(bName).shape[0]!;
    const ba = new Float32Array(rows * cols);
    for (let o = 0; o < rows; o++)
      for (let i = 0; i < cols; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s = f(s + f(b[o * r + k]! * a[k * cols + i]!));
        ba[o * cols + i] = s;
      }
    return { ba, rows, cols };
  };
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
  try {
    for (const name of base.tensorNames()) {
      const shape = base.info(name).shape;
      let values = await base.readTensorF32(name);
      const key = `base_model.model.${name.replace(/\.weight$/, "")}`;
      if (lora.has(`base_model.model.${name}`)) values = await lora.readTensorF32(`base_model.model.${name}`);
      else if (lora.has(`${key}.lora_A.weight`)) {
        const { ba } = await product(`${key}.lora_A.weight`, `${key}.lora_B.weight`);
        values = values.map((w, j) => f(w + f(scale * ba[j]!)));
      } else if (lora.has(`${key}.lora_embedding_A`)) {
        // PEFT's embedding delta is (B·A)ᵀ: B·A is [dim, rows]; the weight is [rows, dim].
        const { ba, cols: rows } = await product(`${key}.lora_embedding_A`, `${key}.lora_embedding_B`);
        const dim = shape[1]!;
        values = values.map((w, j) => f(w + f(scale * ba[(j % dim) * rows + Math.floor(j / dim)]!)));
      }
      tensors.push({ name, shape, values });
    }
    await writeSafetensors(
      join(outDir, "model.safetensors"),
      tensors,
      base.info(base.tensorNames()[0]!).dtype as FloatDType,
    );
  } finally {
    await Promise.all([base.close(), lora.close()]);
  }
  for (const file of await readdir(baseDir)) {
    if (!file.endsWith(".safetensors")) await copyFile(join(baseDir, file), join(outDir, file));
  }
}
