/**
 * Synthetic bf16 checkpoints for the benchmark: a llama-shaped base and fine-tunes that differ from
 * it by small deltas. The layer count sets the size; every size has the same largest tensor (the
 * embedding), so peak memory can be compared across sizes. Values come from a fast xorshift, not
 * a Gaussian: the kernels' speed does not depend on the distribution.
 */
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeFromF32 } from "../src/safetensors/dtype.js";
import { planShards } from "../src/safetensors/shard-plan.js";
import { ShardedWriter } from "../src/safetensors/writer.js";
import { tinyLlamaTensors, type TinyLlamaSpec } from "../src/synth/tiny-llama.js";

/** A llama-shaped model: TinyLlama's layout (src/synth/tiny-llama.ts), bf16. */
export type ModelShape = TinyLlamaSpec;

/** TinyLlama-1.1B's dimensions (layers chosen per size); the quick configuration is smaller. */
export const FULL_DIMENSIONS: Omit<ModelShape, "layers"> = {
  hiddenSize: 2048,
  heads: 32,
  kvHeads: 4,
  intermediateSize: 5632,
  vocabSize: 32000,
  dtype: "BF16",
};
export const QUICK_DIMENSIONS: Omit<ModelShape, "layers"> = {
  hiddenSize: 256,
  heads: 8,
  kvHeads: 2,
  intermediateSize: 704,
  vocabSize: 2048,
  dtype: "BF16",
};

export interface TensorSpec {
  name: string;
  shape: number[];
}

const elementsOf = (t: TensorSpec) => t.shape.reduce((a, b) => a * b, 1);

/** The shape whose bf16 size comes closest to `bytes` (at least one layer). */
export function shapeForSize(bytes: number, dimensions: Omit<ModelShape, "layers">): ModelShape {
  const fixed = tinyLlamaTensors({ ...dimensions, layers: 0 }).reduce((sum, t) => sum + elementsOf(t) * 2, 0);
  const perLayer =
    tinyLlamaTensors({ ...dimensions, layers: 1 }).reduce((sum, t) => sum + elementsOf(t) * 2, 0) - fixed;
  return { ...dimensions, layers: Math.max(1, Math.round((bytes - fixed) / perLayer)) };
}

export function modelBytes(shape: ModelShape): number {
  return tinyLlamaTensors(shape).reduce((sum, t) => sum + elementsOf(t) * 2, 0);
}

export function largestTensorBytes(shape: ModelShape): number {
  return Math.max(...tinyLlamaTensors(shape).map((t) => elementsOf(t) * 2));
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
  const tensors = tinyLlamaTensors(shape);
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
