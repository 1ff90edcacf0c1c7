/**
 * Whether a union vocabulary can be written on a sentencepiece base. The output keeps the base's
 * tokenizer.model, so it can gain added tokens (ChatML's `<|im_start|>`, a pad token) but no new
 * pieces: a source's own vocabulary token that the base lacks would become an added token that
 * matches its literal text (`▁word`), not the word, and tokenize text differently from the model
 * it came from. Such a union is refused, naming the first id where the vocabularies part.
 */
import { HubmergeError, type ErrorLocation } from "../../errors.js";
import type { SourceVocab } from "./output-vocab.js";

export function assertUnionFitsPieces(
  base: SourceVocab,
  pieces: readonly string[],
  others: readonly SourceVocab[],
  setting: { label: string; where: ErrorLocation },
): void {
  const present = new Set([...base.vocab.ids].filter(([, id]) => id < base.size).map(([token]) => token));
  for (const other of others) {
    const own = [...other.vocab.ids]
      .filter(([token, id]) => id < other.size && !other.vocab.added.has(token))
      .sort((a, b) => a[1] - b[1]);
    const missing = own.filter(([token]) => !present.has(token));
    if (missing.length === 0) continue;
    // A missing token sits at an id where the two lists differ, so the search ends by it (unless
    // the base's config cuts its own pieces short; then the first missing token is the news).
    const [token, id] = own.find(([t, i]) => pieces[i] !== t) ?? missing[0]!;
    const baseSide = pieces[id] === undefined ? "no piece" : JSON.stringify(pieces[id]);
    throw new HubmergeError(
      "E_MANIFEST",
      `\`${setting.label}\` cannot add ${other.ref}'s vocabulary to ${base.ref}'s sentencepiece tokenizer.model: ` +
        `they differ from id ${id} (${baseSide} in ${base.ref}, ${JSON.stringify(token)} in ${other.ref}), ` +
        `and ${missing.length} of ${other.ref}'s tokens are not pieces of ${base.ref}`,
      {
        where: { ...setting.where, model: other.ref },
        hint:
          "a sentencepiece model gains added tokens only: use a base that has tokenizer.json, " +
          "or `tokenizer_source: base` to keep the base's vocabulary",
      },
    );
  }
}
