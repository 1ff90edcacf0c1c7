/**
 * A model's vocabulary as its `tokenizer.json` (the Hugging Face tokenizers format) states it:
 * the model's own tokens (BPE, WordLevel and WordPiece map token → id; Unigram lists pieces in
 * id order) and the added tokens, with their flags. That is what transformers' `get_vocab()`
 * returns for a fast tokenizer, which is what mergekit's tokenizer merge works on. A model with
 * only a sentencepiece `tokenizer.model` is read by spm-vocab.ts into the same shape; read-vocab.ts
 * picks the reader.
 */
import { HubmergeError } from "../../errors.js";
import type { ModelSource } from "../../source/model-source.js";

/** tokenizer.json of the largest real vocabularies is ~20 MB; far more is not a tokenizer. */
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;

/** One entry of tokenizer.json's `added_tokens`, as stored there. */
export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The files a vocabulary was read from (the output tokenizer is written from its source's). */
export type TokenizerFormat =
  | { kind: "tokenizer.json"; json: Record<string, unknown> }
  /** tokenizer.model's pieces, in id order. */
  | { kind: "tokenizer.model"; pieces: readonly string[] };

export interface Vocab {
  /** Every token → id: the model's vocabulary, then the added tokens (which win on a clash). */
  ids: Map<string, number>;
  /** Added tokens by content, in id order. */
  added: Map<string, AddedToken>;
  format: TokenizerFormat;
}

/** The model's vocabulary from its tokenizer.json, or null when it has none. */
export async function readJsonVocab(source: ModelSource): Promise<Vocab | null> {
  const bytes = await source.readFile("tokenizer.json");
  if (!bytes) return null;
  if (bytes.byteLength > MAX_TOKENIZER_BYTES) {
    throw vocabError(source.ref, `tokenizer.json is ${bytes.byteLength} bytes, more than a tokenizer`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw vocabError(source.ref, `tokenizer.json is not JSON: ${(error as Error).message}`);
  }
  return parseVocab(json, source.ref);
}

export function parseVocab(json: unknown, ref: string): Vocab {
  if (!isObject(json) || !isObject(json.model)) throw vocabError(ref, "tokenizer.json has no `model`");
  const ids = modelVocab(json.model, ref);
  const added = new Map<string, AddedToken>();
  const list = json.added_tokens ?? [];
  if (!Array.isArray(list)) throw vocabError(ref, "tokenizer.json's `added_tokens` is not a list");
  for (const entry of list) {
    const token = addedToken(entry, ref);
    added.set(token.content, token);
    ids.set(token.content, token.id);
  }
  const ordered = new Map([...added].sort((a, b) => a[1].id - b[1].id));
  return { ids, added: ordered, format: { kind: "tokenizer.json", json } };
}

function modelVocab(model: Record<string, unknown>, ref: string): Map<string, number> {
  const vocab = model.vocab;
  const ids = new Map<string, number>();
  if (model.type === "Unigram" && Array.isArray(vocab)) {
    vocab.forEach((piece, id) => {
      if (!Array.isArray(piece) || typeof piece[0] !== "string")
        throw vocabError(ref, "a Unigram piece is not [text, score]");
      ids.set(piece[0], id);
    });
    return ids;
  }
  if (!isObject(vocab)) {
    throw vocabError(ref, `tokenizer.json's ${String(model.type)} model has no token → id vocabulary`);
  }
  for (const [token, id] of Object.entries(vocab)) {
    if (!isTokenId(id)) throw vocabError(ref, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`);
    ids.set(token, id);
  }
  return ids;
}

function addedToken(entry: unknown, ref: string): AddedToken {
  if (!isObject(entry) || typeof entry.content !== "string" || !isTokenId(entry.id)) {
    throw vocabError(ref, "an entry of `added_tokens` lacks its `id` or `content`");
  }
  const flag = (name: string, fallback: boolean) =>
    typeof entry[name] === "boolean" ? (entry[name] as boolean) : fallback;
  return {
    id: entry.id,
    content: entry.content,
    single_word: flag("single_word", false),
    lstrip: flag("lstrip", false),
    rstrip: flag("rstrip", false),
    normalized: flag("normalized", true),
    special: flag("special", false),
  };
}

function isTokenId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value < 2 ** 31;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function vocabError(ref: string, message: string): HubmergeError {
  return new HubmergeError("E_IO", message, {
    where: { model: ref },
    hint: "the tokenizer merge reads tokenizer.json, else tokenizer.model; check the model's tokenizer files",
  });
}
