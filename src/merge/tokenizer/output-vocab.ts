/**
 * The output vocabulary of a tokenizer merge, and each source's row permutation into it, as
 * mergekit's `tokenizer/build.py` defines them:
 * - `base`: the base model's tokenizer, less any token whose id is at or past the base's
 *   `vocab_size` (tokens without an embedding row);
 * - `union`: that, then every other token of any source (base first, then manifest order; each
 *   source's tokens by id, those past its `vocab_size` skipped) appended as an added token:
 *   first the model-vocabulary tokens, then the sources' added tokens with their flags;
 * - a model: that model's tokenizer as it is.
 * Tokens named under `tokenizer.tokens` are appended last when absent. A new token takes the
 * next id, as transformers' `add_tokens` gives it.
 */
import type { AddedToken, Vocab } from "./vocab.js";

/** A source model's vocabulary and the rows its embeddings hold. */
export interface SourceVocab {
  ref: string;
  vocab: Vocab;
  /** Its config's `vocab_size`, else its vocabulary's size: ids from here on have no row. */
  size: number;
}

export type OutputSource = { kind: "base" } | { kind: "union" } | { kind: "model"; model: SourceVocab };

export interface OutputVocab {
  /** Token → id in the output. */
  ids: Map<string, number>;
  /** Ids 0 … length − 1 (the output's token count, before padding). */
  length: number;
  /** The tokenizer the output is written from, and the ids of it that are kept (below `keepBelow`). */
  from: Vocab;
  keepBelow: number;
  /** Tokens appended to it, in id order, as added-token entries. */
  appended: AddedToken[];
}

/** A plain token as `add_tokens` adds it: matched on normalized text, not special. */
function plainToken(content: string, id: number): AddedToken {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false };
}

export function buildOutputVocab(
  source: OutputSource,
  base: SourceVocab,
  others: readonly SourceVocab[],
  addTokens: readonly string[],
): OutputVocab {
  const from = source.kind === "model" ? source.model : base;
  const keepBelow = source.kind === "model" ? Infinity : base.size;
  const ids = new Map([...from.vocab.ids].filter(([, id]) => id < keepBelow));
  let next = 0;
  for (const id of ids.values()) next = Math.max(next, id + 1);
  const appended: AddedToken[] = [];
  const append = (token: AddedToken) => {
    if (ids.has(token.content)) return;
    const entry = { ...token, id: next++ };
    ids.set(entry.content, entry.id);
    appended.push(entry);
  };
  if (source.kind === "union") {
    const { plain, added } = unionTokens([base, ...others]);
    for (const token of plain) if (!added.has(token)) append(plainToken(token, 0));
    for (const token of added.values()) append(token);
  }
  for (const token of addTokens) append(plainToken(token, 0));
  return { ids, length: next, from: from.vocab, keepBelow, appended };
}

/** Every source's tokens with a row: model-vocabulary ones in first-seen order, added ones first-wins. */
function unionTokens(sources: readonly SourceVocab[]): {
  plain: Set<string>;
  added: Map<string, AddedToken>;
} {
  const plain = new Set<string>();
  const added = new Map<string, AddedToken>();
  for (const { vocab, size } of sources) {
    const byId = [...vocab.ids].filter(([, id]) => id < size).sort((a, b) => a[1] - b[1]);
    for (const [token] of byId) if (!vocab.added.has(token)) plain.add(token);
    for (const token of vocab.added.values()) {
      if (token.id < size && !added.has(token.content)) added.set(token.content, token);
    }
  }
  return { plain, added };
}

/** For each output id, the source's row for that token, or −1 where the source has none. */
export function permutationOf(output: OutputVocab, source: SourceVocab): Int32Array {
  const rows = new Int32Array(output.length).fill(-1);
  for (const [token, id] of output.ids) {
    const own = source.vocab.ids.get(token);
    if (own !== undefined && own < source.size) rows[id] = own;
  }
  return rows;
}
