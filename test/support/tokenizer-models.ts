/**
 * Tiny models whose vocabularies differ by added tokens (the ChatML case): the synthetic llama
 * with `vocabSize` rows, whose tokenizer.json is rewritten so that the rows past the base's
 * vocabulary belong to added tokens (`<|im_start|>`, ...) instead of `tokN` words.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeTinyLlama, type TinyLlamaSpec } from "../../src/synth/tiny-llama.js";
import { TEST_LLAMA } from "./models.js";

interface Json {
  [key: string]: unknown;
}

/** Writes a model of `TEST_LLAMA` whose ids from the base's vocabulary on are `added` tokens. */
export async function writeAddedTokenModel(
  dir: string,
  options: { baseSeed?: number; deltaSeed?: number; added?: string[]; spec?: TinyLlamaSpec },
): Promise<string> {
  const spec = options.spec ?? TEST_LLAMA;
  const added = options.added ?? [];
  await writeTinyLlama(dir, spec, {
    baseSeed: options.baseSeed ?? 1,
    ...(options.deltaSeed !== undefined && { delta: { seed: options.deltaSeed, std: 0.004 } }),
    vocabSize: spec.vocabSize + added.length,
  });
  const path = join(dir, "tokenizer.json");
  const json = JSON.parse(await readFile(path, "utf8")) as Json;
  const model = json.model as { vocab: Record<string, number> };
  const entries = json.added_tokens as Json[];
  added.forEach((content, i) => {
    const id = spec.vocabSize + i;
    delete model.vocab[`tok${id}`];
    entries.push({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
  });
  await writeFile(path, JSON.stringify(json, null, 2) + "\n");
  return dir;
}
