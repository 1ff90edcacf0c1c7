/**
 * The tokenizer part of a plan: read every source's vocabulary (tokenizer.json, else a
 * sentencepiece tokenizer.model, and config `vocab_size`; no weights), build the output
 * vocabulary and each source's permutation into it, and the output tokenizer files where they
 * change. Absent unless the manifest sets `tokenizer_source` or `tokenizer:`; without either, the
 * reference's tokenizer is copied.
 */
import { configVocabSize } from "../config-vocab.js";
import { HubmergeError, type ErrorLocation } from "../../errors.js";
import type { Manifest, TokenizerSettings } from "../../manifest/types.js";
import { modelKey } from "../../model-ref.js";
import type { LoadedModel } from "../loaded-model.js";
import {
  buildOutputVocab,
  permutationOf,
  type OutputSource,
  type OutputVocab,
  type SourceVocab,
} from "./output-vocab.js";
import { readVocab } from "./read-vocab.js";
import { sentencePieceFiles } from "./spm-files.js";
import { assertUnionFitsPieces } from "./spm-union.js";
import { tokenizerFiles, vocabChanged, type TokenizerFiles } from "./tokenizer-files.js";
import type { Vocab } from "./vocab.js";

export interface TokenizerPlan {
  /** Output rows of embed_tokens and lm_head: the token count, padded (config `vocab_size`). */
  rows: number;
  /** Output token count. */
  length: number;
  outputIds: ReadonlyMap<string, number>;
  /** Per loaded model (by `modelKey`): output id → its row, or −1. */
  permutations: ReadonlyMap<string, Int32Array>;
  /** Per loaded model: its own vocabulary. */
  vocabs: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Rewritten tokenizer files, when the vocabulary differs from the source tokenizer's. */
  files?: TokenizerFiles;
  /** The model whose other tokenizer files are copied. */
  sourceKey: string;
  warnings: string[];
}

export async function planTokenizer(
  manifest: Manifest,
  models: ReadonlyMap<string, LoadedModel>,
): Promise<TokenizerPlan | undefined> {
  const settings = manifest.tokenizer;
  if (!settings) return undefined;
  const entries = [...models.entries()];
  const baseKey = manifest.baseModel ? modelKey(manifest.baseModel) : entries[0]![0];
  const vocabs = new Map(
    await Promise.all(entries.map(async ([key, m]) => [key, await readVocab(m.source)] as const)),
  );
  const warnings: string[] = [];
  const baseVocab = requireVocab(vocabs.get(baseKey), models.get(baseKey)!, settings.key);
  const sources = new Map<string, SourceVocab>();
  for (const [key, model] of entries) {
    let vocab = vocabs.get(key) ?? null;
    if (!vocab) {
      // mergekit assumes a model without a loadable tokenizer shares the base's.
      warnings.push(
        `${model.ref} has neither tokenizer.json nor tokenizer.model; its vocabulary is taken to be ${models.get(baseKey)!.ref}'s`,
      );
      vocab = baseVocab;
    }
    sources.set(key, { ref: model.ref, vocab, size: vocabSize(model, vocab) });
  }
  if (typeof settings.source === "object") {
    const chosen = modelKey(settings.source);
    requireVocab(vocabs.get(chosen), models.get(chosen)!, settings.key);
  }
  const source: OutputSource =
    typeof settings.source === "object"
      ? { kind: "model", model: sources.get(modelKey(settings.source))! }
      : { kind: settings.source };
  const others = entries.map(([key]) => key).filter((key) => key !== baseKey);
  const base = sources.get(baseKey)!;
  const otherVocabs = others.map((key) => sources.get(key)!);
  if (source.kind === "union" && base.vocab.format.kind === "tokenizer.model") {
    assertUnionFitsPieces(base, base.vocab.format.pieces, otherVocabs, unionSetting(manifest, settings));
  }
  const output = buildOutputVocab(
    source,
    base,
    otherVocabs,
    settings.tokens.map(([token]) => token),
  );
  const sourceKey = typeof settings.source === "object" ? modelKey(settings.source) : baseKey;
  const files = vocabChanged(output) ? await outputFiles(output, models.get(sourceKey)!) : undefined;
  const pad = settings.padToMultipleOf ?? 1;
  return {
    rows: Math.ceil(output.length / pad) * pad,
    length: output.length,
    outputIds: output.ids,
    permutations: new Map([...sources].map(([key, s]) => [key, permutationOf(output, s)])),
    vocabs: new Map([...sources].map(([key, s]) => [key, s.vocab.ids])),
    ...(files && { files }),
    sourceKey,
    warnings,
  };
}

/** The rewritten files, in the source tokenizer's own format. */
async function outputFiles(output: OutputVocab, model: LoadedModel): Promise<TokenizerFiles> {
  const config = await readJson(model);
  const { format } = output.from;
  return format.kind === "tokenizer.model"
    ? sentencePieceFiles(output, format.pieces, config, model.ref)
    : tokenizerFiles(output, config, model.ref);
}

/** The union setting as the manifest writes it, and its line, for errors about what it asks. */
function unionSetting(
  manifest: Manifest,
  settings: TokenizerSettings,
): { label: string; where: ErrorLocation } {
  const block = settings.key === "tokenizer";
  const position = manifest.locate(block ? ["tokenizer", "source"] : ["tokenizer_source"]);
  return {
    label: block ? "tokenizer.source: union" : "tokenizer_source: union",
    where: { file: manifest.file, ...(position ?? manifest.locate([settings.key])) },
  };
}

function requireVocab(vocab: Vocab | null | undefined, model: LoadedModel, key: string): Vocab {
  if (vocab) return vocab;
  throw new HubmergeError(
    "E_IO",
    `${model.ref} has neither tokenizer.json nor tokenizer.model, which \`${key}\` builds the output from`,
    {
      where: { model: model.ref },
      hint: "hubmerge reads tokenizer.json or a sentencepiece tokenizer.model; use a model that has one",
    },
  );
}

/** The rows the model's embeddings give tokens: config `vocab_size` (config-vocab.ts), else the vocabulary's size. */
function vocabSize(model: LoadedModel, vocab: Vocab): number {
  const size = configVocabSize(model.config);
  if (size !== undefined) return size;
  let count = 0;
  for (const id of vocab.ids.values()) count = Math.max(count, id + 1);
  return count;
}

async function readJson(model: LoadedModel): Promise<Record<string, unknown> | undefined> {
  const bytes = await model.source.readFile("tokenizer_config.json");
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
