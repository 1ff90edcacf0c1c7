/**
 * Which file a model's vocabulary is read from: tokenizer.json when there is one (transformers'
 * AutoTokenizer loads the fast tokenizer from it, ignoring tokenizer.model), else the
 * sentencepiece tokenizer.model with its added-token files, as the slow tokenizer loads them.
 */
import type { ModelSource } from "../../source/model-source.js";
import { readSentencePieceVocab } from "./spm-vocab.js";
import { readJsonVocab, type Vocab } from "./vocab.js";

/** The model's vocabulary, or null when it has neither tokenizer.json nor tokenizer.model. */
export async function readVocab(source: ModelSource): Promise<Vocab | null> {
  return (await readJsonVocab(source)) ?? (await readSentencePieceVocab(source));
}
