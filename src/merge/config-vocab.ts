/**
 * Where config.json keeps the embedding's row count. Text models keep it at the top; several
 * vision-language models keep it for their language model in `text_config` (Gemma 3, Mistral 3,
 * Llama 4), and some configs carry both. Reads take the first one set; a re-indexed vocabulary is
 * written to every one present, so the copies keep agreeing.
 */
import { readCount } from "./modules/config-path.js";

const VOCAB_SIZE_PATHS = ["vocab_size", "text_config.vocab_size"] as const;

type Config = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The vocabulary size the config states, or undefined when no usable one is set. */
export function configVocabSize(config: Config | undefined): number | undefined {
  if (!config) return undefined;
  for (const path of VOCAB_SIZE_PATHS) {
    const size = readCount(config, path);
    if (size !== undefined && size > 0) return size;
  }
  return undefined;
}

/** A copy of the config with `rows` under every vocabulary-size key it has (the top one if none). */
export function withVocabSize(config: Config, rows: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  const textConfig = config["text_config"];
  const nested = isRecord(textConfig) && textConfig["vocab_size"] !== undefined;
  if (nested) out["text_config"] = { ...textConfig, vocab_size: rows };
  if (!nested || config["vocab_size"] !== undefined) out["vocab_size"] = rows;
  return out;
}
