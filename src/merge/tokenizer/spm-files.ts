/**
 * The output's tokenizer files when its source tokenizer is a sentencepiece `tokenizer.model`
 * and the merge changed the vocabulary. The pieces cannot change (a sentencepiece model is not
 * rewritten here), so tokenizer.model is copied as it is and the vocabulary grows only by added
 * tokens, stored as transformers' slow tokenizers store them: every added token in
 * tokenizer_config.json's `added_tokens_decoder`, and those past the pieces in added_tokens.json.
 */
import { HubmergeError } from "../../errors.js";
import type { OutputVocab } from "./output-vocab.js";
import { decoderOf, type TokenizerFiles } from "./tokenizer-files.js";

type Json = Record<string, unknown>;

export function sentencePieceFiles(
  output: OutputVocab,
  pieces: readonly string[],
  sourceConfig: Json | undefined,
  ref: string,
): TokenizerFiles {
  if (pieces.length > output.keepBelow) {
    throw new HubmergeError(
      "E_INCOMPATIBLE",
      `${ref}'s tokenizer.model has ${pieces.length} pieces but its config gives embeddings for ${output.keepBelow} tokens: ` +
        "the output would have to drop pieces from a sentencepiece model, which hubmerge does not rewrite",
      {
        where: { model: ref },
        hint: "fix the model's vocab_size, or take the tokenizer from a model with tokenizer.json (`tokenizer_source: <model>`)",
      },
    );
  }
  const added = [...output.from.added.values()]
    .filter((t) => t.id < output.keepBelow)
    .concat(output.appended);
  const config: Json = { ...(sourceConfig ?? {}), added_tokens_decoder: decoderOf(added) };
  const beyond = added.filter((t) => t.id >= pieces.length);
  const files = new Map([["tokenizer_config.json", encode(config)]]);
  if (beyond.length > 0)
    files.set("added_tokens.json", encode(Object.fromEntries(beyond.map((t) => [t.content, t.id]))));
  // Without added tokens past the pieces, the source's added_tokens.json would list dropped ones.
  return { files, drop: beyond.length > 0 ? [] : ["added_tokens.json"] };
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
