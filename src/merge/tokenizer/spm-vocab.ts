/**
 * The vocabulary of a model that ships a sentencepiece `tokenizer.model` and no tokenizer.json,
 * as transformers' slow tokenizers (LlamaTokenizer and its kin) load it: the pieces, ids in
 * order, then the added tokens. Those come from tokenizer_config.json's `added_tokens_decoder`
 * when it has one (transformers then ignores added_tokens.json), else from the legacy
 * added_tokens.json, whose tokens are special exactly when a special-token setting names them.
 * Files that disagree with each other or with the pieces are refused, naming the file and the id:
 * guessing which one the author meant would put embedding rows under the wrong tokens.
 */
import { HubmergeError } from "../../errors.js";
import type { ModelSource } from "../../source/model-source.js";
import { parseSentencePieceModel } from "./sentencepiece-model.js";
import { MAX_TOKENIZER_BYTES, type AddedToken, type Vocab } from "./vocab.js";

/** More added tokens than this is not a tokenizer's list. */
export const MAX_ADDED_TOKENS = 1 << 20;

const CONFIG = "tokenizer_config.json";
const ADDED = "added_tokens.json";
const SPECIAL_MAP = "special_tokens_map.json";
const DECODER = `${CONFIG}'s \`added_tokens_decoder\``;
const SPECIAL_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
];

/** The JSON side files, as parsed (absent files are undefined). */
export interface SentencePieceSideFiles {
  config?: unknown;
  addedTokens?: unknown;
  specialTokensMap?: unknown;
}

type Json = Record<string, unknown>;

/** The model's vocabulary from tokenizer.model and its side files, or null without tokenizer.model. */
export async function readSentencePieceVocab(source: ModelSource): Promise<Vocab | null> {
  const bytes = await source.readFile("tokenizer.model");
  if (!bytes) return null;
  if (bytes.byteLength > MAX_TOKENIZER_BYTES) {
    throw spmError(source.ref, `tokenizer.model is ${bytes.byteLength} bytes, more than a tokenizer`);
  }
  const { pieces } = parseSentencePieceModel(bytes, source.ref);
  const files: SentencePieceSideFiles = {
    config: await readJsonFile(source, CONFIG),
    addedTokens: await readJsonFile(source, ADDED),
    specialTokensMap: await readJsonFile(source, SPECIAL_MAP),
  };
  return sentencePieceVocab(
    pieces.map((p) => p.piece),
    files,
    source.ref,
  );
}

export function sentencePieceVocab(
  pieces: readonly string[],
  files: SentencePieceSideFiles,
  ref: string,
  maxAdded = MAX_ADDED_TOKENS,
): Vocab {
  const ids = new Map(pieces.map((piece, id) => [piece, id]));
  const decoder = decoderTokens(files.config, ref, maxAdded);
  const legacy = addedTokensFile(files.addedTokens, ref, maxAdded);
  const tokens = decoder ?? legacyTokens(legacy, specialTokens(files), ref);
  if (decoder) for (const [content, id] of legacy) assertListed(decoder, content, id, ref);
  const added = new Map<string, AddedToken>();
  for (const token of [...tokens].sort((a, b) => a.id - b.id)) {
    const where = decoder ? DECODER : ADDED;
    assertFitsPieces(token, pieces, ids, `${where} gives id ${token.id}`, ref);
    const earlier = added.get(token.content);
    if (earlier) {
      throw conflict(
        ref,
        `${where} gives ${JSON.stringify(token.content)} two ids, ${earlier.id} and ${token.id}`,
      );
    }
    added.set(token.content, token);
    ids.set(token.content, token.id);
  }
  return { ids, added, format: { kind: "tokenizer.model", pieces } };
}

/** An added token may restate a piece at its own id; it may not rename a piece, or move one. */
function assertFitsPieces(
  token: AddedToken,
  pieces: readonly string[],
  ids: ReadonlyMap<string, number>,
  where: string,
  ref: string,
): void {
  const piece = pieces[token.id];
  if (piece !== undefined && piece !== token.content) {
    throw conflict(
      ref,
      `${where} to ${JSON.stringify(token.content)}, but tokenizer.model's piece ${token.id} is ${JSON.stringify(piece)}`,
    );
  }
  const own = ids.get(token.content);
  if (piece === undefined && own !== undefined && own < pieces.length) {
    throw conflict(
      ref,
      `${where} to ${JSON.stringify(token.content)}, which is tokenizer.model's piece ${own}`,
    );
  }
}

function decoderTokens(config: unknown, ref: string, maxAdded: number): AddedToken[] | undefined {
  if (config === undefined) return undefined;
  if (!isObject(config)) throw spmError(ref, `${CONFIG} is not a JSON object`);
  const decoder = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return undefined;
  if (!isObject(decoder)) throw spmError(ref, `${DECODER} is not an object of id → token`);
  const entries = Object.entries(decoder);
  if (entries.length > maxAdded) throw spmError(ref, `${DECODER} has more than ${maxAdded} tokens`);
  return entries.map(([key, entry]) => {
    const id = /^\d{1,10}$/.test(key) ? Number(key) : NaN;
    if (!isTokenId(id)) throw spmError(ref, `${DECODER} has the key ${JSON.stringify(key)}, not a token id`);
    if (!isObject(entry) || typeof entry.content !== "string" || entry.content === "") {
      throw spmError(ref, `${DECODER}'s entry ${key} has no \`content\``);
    }
    const flag = (name: string, fallback: boolean) =>
      typeof entry[name] === "boolean" ? (entry[name] as boolean) : fallback;
    const special = flag("special", false);
    return {
      id,
      content: entry.content,
      single_word: flag("single_word", false),
      lstrip: flag("lstrip", false),
      rstrip: flag("rstrip", false),
      // transformers' AddedToken normalizes exactly the tokens that are not special, unless told.
      normalized: flag("normalized", !special),
      special,
    };
  });
}

/** added_tokens.json: token → id. */
function addedTokensFile(value: unknown, ref: string, maxAdded: number): [string, number][] {
  if (value === undefined) return [];
  if (!isObject(value)) throw spmError(ref, `${ADDED} is not an object of token → id`);
  const entries = Object.entries(value);
  if (entries.length > maxAdded) throw spmError(ref, `${ADDED} has more than ${maxAdded} tokens`);
  return entries.map(([content, id]) => {
    if (!isTokenId(id) || content === "") {
      throw spmError(ref, `${ADDED} gives ${JSON.stringify(content)} the id ${JSON.stringify(id)}`);
    }
    return [content, id];
  });
}

/** Legacy added tokens, flagged as transformers flags them when it reads added_tokens.json. */
function legacyTokens(entries: [string, number][], special: ReadonlySet<string>, ref: string): AddedToken[] {
  const byId = new Map<number, string>();
  return entries.map(([content, id]) => {
    const other = byId.get(id);
    if (other !== undefined) {
      throw conflict(
        ref,
        `${ADDED} gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(content)}`,
      );
    }
    byId.set(id, content);
    const isSpecial = special.has(content);
    return {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: !isSpecial,
      special: isSpecial,
    };
  });
}

/** With `added_tokens_decoder` present, added_tokens.json is ignored by transformers: it must agree. */
function assertListed(decoder: readonly AddedToken[], content: string, id: number, ref: string): void {
  const entry = decoder.find((t) => t.id === id);
  if (entry?.content === content) return;
  const found = entry ? `has ${JSON.stringify(entry.content)} there` : "has no such id";
  throw conflict(ref, `${ADDED} gives id ${id} to ${JSON.stringify(content)}, but ${DECODER} ${found}`);
}

/** The tokens the special-token settings name (tokenizer_config.json, then special_tokens_map.json). */
function specialTokens(files: SentencePieceSideFiles): Set<string> {
  const names = new Set<string>();
  const text = (value: unknown) =>
    typeof value === "string"
      ? value
      : isObject(value) && typeof value.content === "string"
        ? value.content
        : undefined;
  for (const file of [files.config, files.specialTokensMap]) {
    if (!isObject(file)) continue;
    for (const key of SPECIAL_KEYS) {
      const name = text(file[key]);
      if (name !== undefined) names.add(name);
    }
    const extra = file.additional_special_tokens;
    if (Array.isArray(extra))
      for (const value of extra) if (text(value) !== undefined) names.add(text(value)!);
  }
  return names;
}

async function readJsonFile(source: ModelSource, name: string): Promise<unknown> {
  const bytes = await source.readFile(name);
  if (!bytes) return undefined;
  if (bytes.byteLength > MAX_TOKENIZER_BYTES) {
    throw spmError(source.ref, `${name} is ${bytes.byteLength} bytes, more than a tokenizer's`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (error) {
    throw spmError(source.ref, `${name} is not JSON: ${(error as Error).message}`);
  }
}

function isTokenId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value < 2 ** 31;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function spmError(ref: string, message: string): HubmergeError {
  return new HubmergeError("E_IO", message, {
    where: { model: ref },
    hint: "the model has no tokenizer.json, so its vocabulary is read from tokenizer.model and these files; fix them",
  });
}

function conflict(ref: string, message: string): HubmergeError {
  return new HubmergeError("E_IO", `the added tokens disagree: ${message}`, {
    where: { model: ref },
    hint: "make tokenizer_config.json, added_tokens.json and tokenizer.model agree (or ship a tokenizer.json)",
  });
}
