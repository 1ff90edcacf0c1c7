/**
 * Tiny vision-language checkpoints for `modules:` tests, in the layouts real Hub checkpoints use:
 * - `qwen2vl`: Qwen2-VL as saved before transformers 4.52 (`model.layers.N…`, `visual.blocks.N…`,
 *   `visual.merger.…`, `lm_head`), the text layer count at the config's top;
 * - `qwen2vl-new`: the same model as saved since (`model.language_model.…`, `model.visual.…`),
 *   the count in `text_config` as well;
 * - `gemma3`: Gemma 3 / Mistral 3 style (`language_model.model.layers.N…`,
 *   `vision_tower.vision_model.…`, `multi_modal_projector.…`), counts in `text_config` and
 *   `vision_config`, with a per-layer `layer_types` list.
 * Values come from tinyLlamaValues (seeded by tensor name), f32, so merges can be checked bytewise.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeFromF32 } from "../../src/safetensors/dtype.js";
import { planShards } from "../../src/safetensors/shard-plan.js";
import { ShardedWriter } from "../../src/safetensors/writer.js";
import { tinyLlamaValues, type VariantSpec } from "../../src/synth/tiny-llama.js";

export type VlmLayout = "qwen2vl" | "qwen2vl-new" | "gemma3";

export interface VlmSpec {
  layout: VlmLayout;
  textLayers: number;
  visionLayers: number;
  /** Extra tensors no module claims (to test that refusal). */
  extraTensors?: string[];
}

const H = 8; // text hidden size
const V = 6; // vision hidden size
const VOCAB = 16;

interface TensorSpec {
  name: string;
  shape: number[];
}

function textTensors(prefix: string, head: string, layers: number): TensorSpec[] {
  const list: TensorSpec[] = [{ name: `${prefix}embed_tokens.weight`, shape: [VOCAB, H] }];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}layers.${i}.`;
    list.push(
      { name: `${p}input_layernorm.weight`, shape: [H] },
      { name: `${p}self_attn.q_proj.weight`, shape: [H, H] },
      { name: `${p}mlp.up_proj.weight`, shape: [12, H] },
    );
  }
  list.push({ name: `${prefix}norm.weight`, shape: [H] }, { name: head, shape: [VOCAB, H] });
  return list;
}

function qwenVision(prefix: string, layers: number): TensorSpec[] {
  const list: TensorSpec[] = [{ name: `${prefix}patch_embed.proj.weight`, shape: [V, 12] }];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}blocks.${i}.`;
    list.push(
      { name: `${p}norm1.weight`, shape: [V] },
      { name: `${p}attn.qkv.weight`, shape: [3 * V, V] },
      { name: `${p}mlp.fc1.weight`, shape: [10, V] },
    );
  }
  list.push(
    { name: `${prefix}merger.ln_q.weight`, shape: [V] },
    { name: `${prefix}merger.mlp.0.weight`, shape: [H, V] },
    { name: `${prefix}merger.mlp.2.weight`, shape: [H, H] },
  );
  return list;
}

function siglipVision(prefix: string, layers: number): TensorSpec[] {
  const list: TensorSpec[] = [{ name: `${prefix}embeddings.patch_embedding.weight`, shape: [V, 12] }];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}encoder.layers.${i}.`;
    list.push(
      { name: `${p}layer_norm1.weight`, shape: [V] },
      { name: `${p}self_attn.q_proj.weight`, shape: [V, V] },
    );
  }
  list.push({ name: `${prefix}post_layernorm.weight`, shape: [V] });
  return list;
}

export function vlmTensors(spec: VlmSpec): TensorSpec[] {
  const { textLayers: t, visionLayers: v } = spec;
  const extra = (spec.extraTensors ?? []).map((name) => ({ name, shape: [H] }));
  switch (spec.layout) {
    case "qwen2vl":
      return [...textTensors("model.", "lm_head.weight", t), ...qwenVision("visual.", v), ...extra];
    case "qwen2vl-new":
      return [
        ...textTensors("model.language_model.", "lm_head.weight", t),
        ...qwenVision("model.visual.", v),
        ...extra,
      ];
    case "gemma3":
      return [
        ...textTensors("language_model.model.", "language_model.lm_head.weight", t),
        ...siglipVision("vision_tower.vision_model.", v),
        { name: "multi_modal_projector.mm_input_projection_weight", shape: [V, H] },
        { name: "multi_modal_projector.mm_soft_emb_norm.weight", shape: [V] },
        ...extra,
      ];
  }
}

export function vlmConfig(spec: VlmSpec): Record<string, unknown> {
  const { textLayers: t, visionLayers: v } = spec;
  if (spec.layout === "gemma3") {
    return {
      architectures: ["Gemma3ForConditionalGeneration"],
      model_type: "gemma3",
      text_config: {
        model_type: "gemma3_text",
        hidden_size: H,
        num_hidden_layers: t,
        layer_types: Array.from({ length: t }, (_, i) =>
          i % 2 === 0 ? "sliding_attention" : "full_attention",
        ),
        vocab_size: VOCAB,
      },
      vision_config: { model_type: "siglip_vision_model", hidden_size: V, num_hidden_layers: v },
      torch_dtype: "float32",
    };
  }
  return {
    architectures: ["Qwen2VLForConditionalGeneration"],
    model_type: "qwen2_vl",
    hidden_size: H,
    num_hidden_layers: t,
    vocab_size: VOCAB,
    ...(spec.layout === "qwen2vl-new" && { text_config: { hidden_size: H, num_hidden_layers: t } }),
    vision_config: { depth: v, embed_dim: V },
    torch_dtype: "float32",
  };
}

/** Writes one VLM (f32) to `dir`: its shard and config.json; `variant` as tinyLlamaValues takes it. */
export async function writeVlm(dir: string, spec: VlmSpec, variant: VariantSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = vlmTensors(spec);
  const plan = planShards(tensors.map((t) => ({ ...t, dtype: "F32" as const })));
  const writer = new ShardedWriter({ dir, plan, metadata: { format: "pt" } });
  for (const t of tensors) {
    await writer.writeTensor(t.name, encodeFromF32(tinyLlamaValues(t.name, t.shape, variant), "F32"));
  }
  await writer.finish();
  await writeFile(join(dir, "config.json"), JSON.stringify(vlmConfig(spec), null, 2));
}

/** A base (`base`) and fine-tunes (`ft1`, `ft2`) of one VLM under `dir`. */
export async function writeVlmFamily(dir: string, spec: VlmSpec, fineTunes = 2): Promise<void> {
  await writeVlm(join(dir, "base"), spec, { baseSeed: 7 });
  for (let i = 1; i <= fineTunes; i++) {
    await writeVlm(join(dir, `ft${i}`), spec, { baseSeed: 7, delta: { seed: 200 + i, std: 0.004 } });
  }
}
