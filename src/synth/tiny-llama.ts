import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeFromF32, type FloatDType } from "../safetensors/dtype.js";
import { planShards } from "../safetensors/shard-plan.js";
import { ShardedWriter } from "../safetensors/writer.js";
import { gaussianFill } from "./gaussian.js";

/**
 * Synthetic llama-style checkpoints: a base and fine-tunes that differ from it by small deltas
 * (|δ| of a few thousandths, as the DARE paper observed for SFT). Deterministic for a given seed;
 * used by the demo, the tests and the benchmark.
 */
export interface TinyLlamaSpec {
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediateSize: number;
  vocabSize: number;
  dtype: FloatDType;
}

export const TINY_LLAMA: TinyLlamaSpec = {
  hiddenSize: 64,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediateSize: 172,
  vocabSize: 256,
  dtype: "BF16",
};

export interface VariantSpec {
  /** Seed of the base weights: models sharing it share a backbone. */
  baseSeed: number;
  /** Seed and standard deviation of the fine-tune delta; none for the base itself. */
  delta?: { seed: number; std: number };
  /** Rows of vocabulary, when a fine-tune added tokens. */
  vocabSize?: number;
  maxShardBytes?: number;
}

export function tinyLlamaTensors(
  spec: TinyLlamaSpec,
  vocabSize = spec.vocabSize,
): { name: string; shape: number[] }[] {
  const h = spec.hiddenSize;
  const kv = (h / spec.heads) * spec.kvHeads;
  const list = [{ name: "model.embed_tokens.weight", shape: [vocabSize, h] }];
  for (let i = 0; i < spec.layers; i++) {
    const p = `model.layers.${i}.`;
    list.push(
      { name: `${p}input_layernorm.weight`, shape: [h] },
      { name: `${p}self_attn.q_proj.weight`, shape: [h, h] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, h] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, h] },
      { name: `${p}self_attn.o_proj.weight`, shape: [h, h] },
      { name: `${p}post_attention_layernorm.weight`, shape: [h] },
      { name: `${p}mlp.gate_proj.weight`, shape: [spec.intermediateSize, h] },
      { name: `${p}mlp.up_proj.weight`, shape: [spec.intermediateSize, h] },
      { name: `${p}mlp.down_proj.weight`, shape: [h, spec.intermediateSize] },
    );
  }
  list.push({ name: "model.norm.weight", shape: [h] }, { name: "lm_head.weight", shape: [vocabSize, h] });
  return list;
}

/** The values of one tensor of a variant: base weights (norms near 1), plus the delta if any. */
export function tinyLlamaValues(name: string, shape: number[], variant: VariantSpec): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  const isNorm = name.endsWith("layernorm.weight") || name === "model.norm.weight";
  gaussianFill(values, `${variant.baseSeed}:${name}`, isNorm ? 0.02 : 0.05);
  if (isNorm) for (let i = 0; i < n; i++) values[i] = Math.fround(values[i]! + 1);
  if (variant.delta) {
    const delta = new Float32Array(n);
    gaussianFill(delta, `${variant.delta.seed}:delta:${name}`, variant.delta.std);
    for (let i = 0; i < n; i++) values[i] = Math.fround(values[i]! + delta[i]!);
  }
  return values;
}

export async function writeTinyLlama(dir: string, spec: TinyLlamaSpec, variant: VariantSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  const vocab = variant.vocabSize ?? spec.vocabSize;
  const tensors = tinyLlamaTensors(spec, vocab);
  const plan = planShards(
    tensors.map((t) => ({ ...t, dtype: spec.dtype })),
    variant.maxShardBytes,
  );
  const writer = new ShardedWriter({ dir, plan, metadata: { format: "pt" } });
  for (const t of tensors) {
    await writer.writeTensor(t.name, encodeFromF32(tinyLlamaValues(t.name, t.shape, variant), spec.dtype));
  }
  await writer.finish();
  await writeJson(join(dir, "config.json"), llamaConfig(spec, vocab));
  await writeJson(join(dir, "generation_config.json"), {
    bos_token_id: 1,
    eos_token_id: 2,
    max_new_tokens: 64,
  });
  await writeTokenizer(dir, vocab);
}

function llamaConfig(spec: TinyLlamaSpec, vocab: number): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.layers,
    num_attention_heads: spec.heads,
    num_key_value_heads: spec.kvHeads,
    head_dim: spec.hiddenSize / spec.heads,
    vocab_size: vocab,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    hidden_act: "silu",
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: { F32: "float32", F16: "float16", BF16: "bfloat16" }[spec.dtype],
  };
}

/** A word-level tokenizer over `vocab` tokens: enough for transformers to load the model. */
async function writeTokenizer(dir: string, vocab: number): Promise<void> {
  const tokens: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let i = 3; i < vocab; i++) tokens[`tok${i}`] = i;
  await writeJson(join(dir, "tokenizer.json"), {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: ["<unk>", "<s>", "</s>"].map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab: tokens, unk_token: "<unk>" },
  });
  await writeJson(join(dir, "tokenizer_config.json"), {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    model_max_length: 2048,
  });
  await writeJson(join(dir, "special_tokens_map.json"), {
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
  });
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + "\n");
}
