/**
 * Synthetic bf16 checkpoints for the benchmark: a llama-shaped base and fine-tunes that differ from
 * it by small deltas. The layer count sets the size; every size has the same largest tensor (the
 * embedding), so peak memory can be compared across sizes. Values come from a fast xorshift, not
 * a Gaussian: the kernels' speed does not depend on the distribution.
 */
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeFromF32 } from "../src/safetensors/dtype.js";
import { ShardedWriter, planShards } from "../src/safetensors/writer.js";

export interface ModelShape {
  hidden: number;
  kvHidden: number;
  intermediate: number;
  vocab: number;
  layers: number;
}

/** TinyLlama-1.1B's dimensions (layers chosen per size); the quick configuration is smaller. */
export const FULL_DIMENSIONS = { hidden: 2048, kvHidden: 256, intermediate: 5632, vocab: 32000 };
export const QUICK_DIMENSIONS = { hidden: 256, kvHidden: 64, intermediate: 704, vocab: 2048 };

export interface TensorSpec {
  name: string;
  shape: number[];
}

export function tensorList(shape: ModelShape): TensorSpec[] {
  const { hidden: h, kvHidden: kv, intermediate: i } = shape;
  const list: TensorSpec[] = [{ name: "model.embed_tokens.weight", shape: [shape.vocab, h] }];
  for (let layer = 0; layer < shape.layers; layer++) {
    const p = `model.layers.${layer}.`;
    list.push(
      { name: `${p}input_layernorm.weight`, shape: [h] },
      { name: `${p}self_attn.q_proj.weight`, shape: [h, h] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, h] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, h] },
      { name: `${p}self_attn.o_proj.weight`, shape: [h, h] },
      { name: `${p}post_attention_layernorm.weight`, shape: [h] },
      { name: `${p}mlp.gate_proj.weight`, shape: [i, h] },
      { name: `${p}mlp.up_proj.weight`, shape: [i, h] },
      { name: `${p}mlp.down_proj.weight`, shape: [h, i] },
    );
  }
  list.push({ name: "model.norm.weight", shape: [h] }, { name: "lm_head.weight", shape: [shape.vocab, h] });
  return list;
}

const elementsOf = (t: TensorSpec) => t.shape.reduce((a, b) => a * b, 1);

/** The shape whose bf16 size comes closest to `bytes` (at least one layer). */
export function shapeForSize(bytes: number, dimensions: Omit<ModelShape, "layers">): ModelShape {
  const fixed = tensorList({ ...dimensions, layers: 0 }).reduce((sum, t) => sum + elementsOf(t) * 2, 0);
  const perLayer =
    tensorList({ ...dimensions, layers: 1 }).reduce((sum, t) => sum + elementsOf(t) * 2, 0) - fixed;
  return { ...dimensions, layers: Math.max(1, Math.round((bytes - fixed) / perLayer)) };
}

export function modelBytes(shape: ModelShape): number {
  return tensorList(shape).reduce((sum, t) => sum + elementsOf(t) * 2, 0);
}

export function largestTensorBytes(shape: ModelShape): number {
  return Math.max(...tensorList(shape).map((t) => elementsOf(t) * 2));
}

/** Fills `out` with uniform values in [-scale, scale) from a xorshift seeded by `seed`. */
function fillUniform(out: Float32Array, seed: number, scale: number): void {
  let state = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 2147483648 - 1) * scale;
  }
}

function hashName(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return hash >>> 0;
}

/** One tensor of model `variant` (0 = base): base values, plus a small delta for fine-tunes. */
export function tensorValues(spec: TensorSpec, variant: number): Float32Array {
  const values = new Float32Array(elementsOf(spec));
  const isNorm = spec.name.endsWith("norm.weight");
  fillUniform(values, hashName(spec.name), isNorm ? 0.02 : 0.05);
  if (isNorm) for (let i = 0; i < values.length; i++) values[i] = values[i]! + 1;
  if (variant === 0) return values;
  const delta = new Float32Array(values.length);
  fillUniform(delta, hashName(spec.name) ^ Math.imul(variant, 0x9e3779b9), 0.004);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! + delta[i]!;
  return values;
}

/** Writes base + `fineTunes` models under `dir` (skipped when a finished set of that shape exists). */
export async function writeModelSet(dir: string, shape: ModelShape, fineTunes: number): Promise<string[]> {
  const folders = Array.from({ length: fineTunes + 1 }, (_, v) => join(dir, v === 0 ? "base" : `ft${v}`));
  const marker = join(dir, `complete-${JSON.stringify(shape).replace(/\W+/g, "-")}`);
  if (await stat(marker).catch(() => undefined)) return folders;
  await rm(dir, { recursive: true, force: true });
  const tensors = tensorList(shape);
  for (const [variant, folder] of folders.entries()) {
    await mkdir(folder, { recursive: true });
    const plan = planShards(tensors.map((t) => ({ ...t, dtype: "BF16" as const })));
    const writer = new ShardedWriter({ dir: folder, plan });
    for (const t of tensors)
      await writer.writeTensor(t.name, encodeFromF32(tensorValues(t, variant), "BF16"));
    await writer.finish();
  }
  await writeFile(marker, "");
  return folders;
}
