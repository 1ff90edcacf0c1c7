/**
 * The output's `tokenizer.json` and `tokenizer_config.json` when the merge changed the
 * vocabulary: the source tokenizer less the ids it drops (mergekit strips tokens past the base's
 * `vocab_size`), plus the appended tokens as `added_tokens` entries, and the config's
 * `added_tokens_decoder` listing the same added tokens. The model part (BPE merges, normalizer,
 * pre-tokenizer) is the source's, so the output tokenizes the source's text as before.
 */
import { HubmergeError } from "../../errors.js";
import type { OutputVocab } from "./output-vocab.js";
import type { AddedToken } from "./vocab.js";

/** File name → bytes; `drop` names source files that would contradict the new vocabulary. */
export interface TokenizerFiles {
  files: Map<string, Uint8Array>;
  drop: string[];
}

type Json = Record<string, unknown>;

/** Whether the output's tokenizer differs from its source's files at all. */
export function vocabChanged(output: OutputVocab): boolean {
  return output.appended.length > 0 || [...output.from.ids.values()].some((id) => id >= output.keepBelow);
}

export function tokenizerFiles(
  output: OutputVocab,
  sourceConfig: Json | undefined,
  ref: string,
): TokenizerFiles {
  const { format } = output.from;
  if (format.kind !== "tokenizer.json") {
    throw new HubmergeError("E_INTERNAL", "tokenizerFiles writes tokenizer.json sources only", {
      where: { model: ref },
    });
  }
  const json = structuredClone(format.json);
  const model = json.model as Json;
  model.vocab = keptModelVocab(model, output.keepBelow, ref);
  if (Array.isArray(model.merges)) model.merges = keptMerges(model.merges, output);
  const added = [...output.from.added.values()]
    .filter((t) => t.id < output.keepBelow)
    .concat(output.appended);
  json.added_tokens = added;
  const config: Json = { ...(sourceConfig ?? {}), added_tokens_decoder: decoderOf(added) };
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
  return {
    files: new Map([
      ["tokenizer.json", encode(json)],
      ["tokenizer_config.json", encode(config)],
    ]),
    // The slow tokenizer's list of added tokens would disagree with the new ids.
    drop: ["added_tokens.json"],
  };
}

function keptModelVocab(model: Json, keepBelow: number, ref: string): unknown {
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    // Unigram lists pieces in id order, so dropping the ids past a bound keeps the rest exact.
    return vocab.length > keepBelow ? vocab.slice(0, keepBelow) : vocab;
  }
  if (typeof vocab !== "object" || vocab === null) {
    throw new HubmergeError("E_IO", "tokenizer.json has no vocabulary to rewrite", { where: { model: ref } });
  }
  return Object.fromEntries(Object.entries(vocab).filter(([, id]) => (id as number) < keepBelow));
}

/** BPE merges that make a dropped token go with it (mergekit does the same). */
function keptMerges(merges: unknown[], output: OutputVocab): unknown[] {
  const dropped = new Set(
    [...output.from.ids].filter(([, id]) => id >= output.keepBelow).map(([token]) => token),
  );
  if (dropped.size === 0) return merges;
  return merges.filter((merge) => {
    const parts = typeof merge === "string" ? merge.split(" ") : Array.isArray(merge) ? merge : [];
    return !parts.some((part) => dropped.has(String(part)));
  });
}

/** `added_tokens_decoder` as transformers writes it: id → the token's content and flags. */
export function decoderOf(added: readonly AddedToken[]): Json {
  return Object.fromEntries(
    added.map(({ id, ...flags }) => [
      String(id),
      {
        content: flags.content,
        lstrip: flags.lstrip,
        normalized: flags.normalized,
        rstrip: flags.rstrip,
        single_word: flags.single_word,
        special: flags.special,
      },
    ]),
  );
}
