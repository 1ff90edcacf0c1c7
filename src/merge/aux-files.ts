import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelSource } from "../source/model-source.js";
import type { TokenizerFiles } from "./tokenizer/tokenizer-files.js";

/** Files a merged model needs beside its weights, taken from the base (or tokenizer_source). */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "tokenizer.model",
  "spiece.model",
  "vocab.json",
  "vocab.txt",
  "merges.txt",
  "chat_template.jinja",
  "chat_template.json",
];

export interface AuxFilesInput {
  dir: string;
  config: Record<string, unknown> | undefined;
  configSource: ModelSource;
  tokenizerSource: ModelSource;
  /** Tokenizer files rewritten for a merged vocabulary: they replace the source's. */
  tokenizerFiles?: TokenizerFiles;
  /** The chosen template's text (settled at plan time). */
  chatTemplate?: string;
}

/** Writes config.json, generation_config.json and the tokenizer files; returns their names. */
export async function writeAuxFiles(input: AuxFilesInput): Promise<string[]> {
  const written: string[] = [];
  if (input.config) {
    await writeFile(join(input.dir, "config.json"), JSON.stringify(input.config, null, 2) + "\n");
    written.push("config.json");
  }
  const generation = await input.configSource.readFile("generation_config.json");
  if (generation) {
    await writeFile(join(input.dir, "generation_config.json"), generation);
    written.push("generation_config.json");
  }
  const replaced = input.tokenizerFiles;
  for (const name of TOKENIZER_FILES) {
    if (replaced?.drop.includes(name)) continue;
    const bytes = replaced?.files.get(name) ?? (await input.tokenizerSource.readFile(name));
    if (!bytes) continue;
    await writeFile(join(input.dir, name), bytes);
    written.push(name);
  }
  if (input.chatTemplate !== undefined) {
    await writeFile(join(input.dir, "chat_template.jinja"), input.chatTemplate);
    if (!written.includes("chat_template.jinja")) written.push("chat_template.jinja");
  }
  return written.sort();
}
