/**
 * Sentencepiece fixtures: `tokenizer.model` files written with protobuf's wire writer (a
 * `ModelProto` with pieces, a trainer spec and a normalizer spec, as sentencepiece's trainer
 * writes them), and tiny llamas that ship one instead of a tokenizer.json, as older Llama and
 * Mistral fine-tunes do: tokenizer.model, tokenizer_config.json with `added_tokens_decoder`,
 * special_tokens_map.json and, when tokens were added, added_tokens.json.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { writeTinyLlama, type TinyLlamaSpec } from "../../src/synth/tiny-llama.js";
import { TEST_LLAMA } from "./models.js";

export interface PieceSpec {
  piece: string;
  score?: number;
  /** sentencepiece's `SentencePiece.Type`; omitted means NORMAL (1), as the proto default. */
  type?: number;
}

/** The serialized `ModelProto` of these pieces (BPE, sentencepiece's field order). */
export function encodeSentencePieceModel(pieces: readonly PieceSpec[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const { piece, score, type } of pieces) {
    writer.tag(1, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(piece);
    if (score !== undefined) writer.tag(2, WireType.Bit32).float(score);
    if (type !== undefined) writer.tag(3, WireType.Varint).int32(type);
    writer.join();
  }
  // trainer_spec: model_type (3) = BPE, vocab_size (4), model_prefix (2).
  writer.tag(2, WireType.LengthDelimited).fork();
  writer.tag(2, WireType.LengthDelimited).string("tokenizer");
  writer.tag(3, WireType.Varint).int32(2);
  writer.tag(4, WireType.Varint).int32(pieces.length);
  writer.join();
  // normalizer_spec: name (1), add_dummy_prefix (3).
  writer.tag(3, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string("identity");
  writer.tag(3, WireType.Varint).bool(true);
  writer.join();
  return writer.finish();
}

/** The pieces of a llama-style model of `size` tokens: `<unk>`, `<s>`, `</s>`, then `tokN`. */
export function llamaPieces(size: number): PieceSpec[] {
  const pieces: PieceSpec[] = [
    { piece: "<unk>", score: 0, type: 2 },
    { piece: "<s>", score: 0, type: 3 },
    { piece: "</s>", score: 0, type: 3 },
  ];
  for (let id = 3; id < size; id++) pieces.push({ piece: `tok${id}`, score: -id });
  return pieces;
}

const SPECIAL = { lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };

/**
 * Writes a model of `TEST_LLAMA` with only sentencepiece tokenizer files: the base's pieces
 * (`tokN` as in tokenizer.json fixtures), then `added` tokens at the ids past them, with rows.
 */
export async function writeSentencePieceModel(
  dir: string,
  options: { baseSeed?: number; deltaSeed?: number; added?: string[]; spec?: TinyLlamaSpec } = {},
): Promise<string> {
  const spec = options.spec ?? TEST_LLAMA;
  const added = options.added ?? [];
  await writeTinyLlama(dir, spec, {
    baseSeed: options.baseSeed ?? 1,
    ...(options.deltaSeed !== undefined && { delta: { seed: options.deltaSeed, std: 0.004 } }),
    vocabSize: spec.vocabSize + added.length,
  });
  await rm(join(dir, "tokenizer.json"));
  await writeFile(join(dir, "tokenizer.model"), encodeSentencePieceModel(llamaPieces(spec.vocabSize)));
  const decoder: Record<string, unknown> = {};
  ["<unk>", "<s>", "</s>"].forEach((content, id) => (decoder[id] = { content, ...SPECIAL }));
  added.forEach((content, i) => (decoder[spec.vocabSize + i] = { content, ...SPECIAL }));
  await writeJson(join(dir, "tokenizer_config.json"), {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: decoder,
    bos_token: "<s>",
    eos_token: "</s>",
    legacy: false,
    model_max_length: 2048,
    tokenizer_class: "LlamaTokenizer",
    unk_token: "<unk>",
  });
  if (added.length > 0) {
    await writeJson(
      join(dir, "added_tokens.json"),
      Object.fromEntries(added.map((t, i) => [t, spec.vocabSize + i])),
    );
  }
  return dir;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + "\n");
}
