/**
 * A PEFT LoRA adapter as PEFT saves it: `adapter_config.json` (`peft_type: LORA`, `r`,
 * `lora_alpha`, `use_rslora`, ...) and `adapter_model.safetensors`, whose keys are the base
 * model's module names under `base_model.model.`. Reading it tells, for each base tensor, what
 * the adapter does to it: add a low-rank product, add an embedding product, or replace it
 * (`modules_to_save`, trained biases). Anything this module cannot apply exactly is refused.
 */
import { HubmergeError } from "../../errors.js";
import { SafetensorsModel } from "../../safetensors/reader.js";
import type { ModelSource } from "../../source/model-source.js";

export const ADAPTER_CONFIG = "adapter_config.json";
const MAX_CONFIG_BYTES = 1024 * 1024;
const KEY_PREFIX = "base_model.model.";

/** What the adapter does to one base tensor. */
export type AdapterEdit =
  /** W + scale·B·A, with A `[r, in]` and B `[out, r]` (a Linear's lora_A / lora_B). */
  | { kind: "linear"; a: string; b: string; scale: number }
  /** W + scale·(B·A)ᵀ, with A `[r, rows]` and B `[dim, r]` (an Embedding's lora_embedding_A / _B). */
  | { kind: "embedding"; a: string; b: string; scale: number }
  /** The adapter's own tensor instead of the base's (modules_to_save, trained biases). */
  | { kind: "replace"; tensor: string };

export interface Adapter {
  ref: string;
  source: ModelSource;
  tensors: SafetensorsModel;
  /** Base tensor name → the edit, for every tensor the adapter touches. */
  edits: Map<string, AdapterEdit>;
}

function adapterError(source: ModelSource, message: string, hint: string): HubmergeError {
  return new HubmergeError("E_MANIFEST", message, { where: { model: source.ref }, hint });
}

async function readConfig(source: ModelSource): Promise<Record<string, unknown>> {
  const bytes = await source.readFile(ADAPTER_CONFIG);
  if (bytes === null) {
    throw adapterError(
      source,
      `${source.ref} has no ${ADAPTER_CONFIG}: the part after \`+\` must be a PEFT LoRA adapter.`,
      "Point `model+adapter` at a folder or repo saved with PEFT's save_pretrained (adapter_config.json, adapter_model.safetensors).",
    );
  }
  let parsed: unknown;
  try {
    if (bytes.byteLength > MAX_CONFIG_BYTES) throw new Error(`${bytes.byteLength} bytes`);
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw adapterError(
      source,
      `${ADAPTER_CONFIG} cannot be read: ${(error as Error).message}`,
      "Save the adapter again with PEFT.",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw adapterError(
      source,
      `${ADAPTER_CONFIG} is not a JSON object.`,
      "Save the adapter again with PEFT.",
    );
  }
  return parsed as Record<string, unknown>;
}

/** The scale α/r (α/√r with rsLoRA), f32, from the config and the rank the tensors have. */
function scaleOf(config: Record<string, unknown>, rank: number, source: ModelSource): number {
  const alpha = config.lora_alpha ?? 8;
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) {
    throw adapterError(
      source,
      "`lora_alpha` in adapter_config.json is not a number.",
      "Set `lora_alpha` to a number.",
    );
  }
  const divisor = config.use_rslora === true ? Math.fround(Math.sqrt(rank)) : rank;
  return Math.fround(Math.fround(alpha) / divisor);
}

function checkConfig(config: Record<string, unknown>, source: ModelSource): void {
  const type = config.peft_type ?? "LORA";
  if (type !== "LORA") {
    throw adapterError(
      source,
      `${source.ref} is a ${String(type)} adapter; hubmerge applies LoRA adapters only.`,
      "Merge this adapter into its base with PEFT (merge_and_unload), save the result and reference that model.",
    );
  }
  if (config.use_dora === true) {
    throw adapterError(
      source,
      `${source.ref} is a DoRA adapter (\`use_dora: true\`), which hubmerge does not apply.`,
      "Merge it into its base with PEFT (merge_and_unload), save the result and reference that model.",
    );
  }
  if (config.fan_in_fan_out === true) {
    throw adapterError(
      source,
      `${source.ref} sets \`fan_in_fan_out\` (transposed Conv1D weights), which hubmerge does not apply yet.`,
      "Merge it into its base with PEFT (merge_and_unload), save the result and reference that model.",
    );
  }
  const pattern = config.alpha_pattern;
  if (pattern !== undefined && pattern !== null && Object.keys(pattern as object).length > 0) {
    throw adapterError(
      source,
      `${source.ref} sets a per-module \`alpha_pattern\`, which hubmerge does not apply yet.`,
      "Merge it into its base with PEFT (merge_and_unload), save the result and reference that model.",
    );
  }
}

const LORA_KEY = /^(.*)\.(lora_A|lora_B)\.weight$|^(.*)\.(lora_embedding_A|lora_embedding_B)$/;

/** Groups the adapter's tensors by the base tensor they edit. */
function editsOf(
  tensors: SafetensorsModel,
  config: Record<string, unknown>,
  source: ModelSource,
): Map<string, AdapterEdit> {
  const pairs = new Map<string, { a?: string; b?: string; embedding: boolean }>();
  const edits = new Map<string, AdapterEdit>();
  for (const key of tensors.tensorNames()) {
    const name = key.startsWith(KEY_PREFIX) ? key.slice(KEY_PREFIX.length) : key;
    const match = LORA_KEY.exec(name);
    if (match === null) {
      if (/lora_|magnitude/.test(name)) {
        throw adapterError(
          source,
          `${source.ref} has a tensor hubmerge cannot apply: ${key}.`,
          "Only LoRA A/B pairs, embedding pairs and saved modules are supported.",
        );
      }
      edits.set(name, { kind: "replace", tensor: key });
      continue;
    }
    const module = match[1] ?? match[3]!;
    const part = match[2] ?? match[4]!;
    const pair = pairs.get(module) ?? { embedding: part.startsWith("lora_embedding") };
    if (part.endsWith("A")) pair.a = key;
    else pair.b = key;
    pairs.set(module, pair);
  }
  for (const [module, pair] of pairs) {
    if (pair.a === undefined || pair.b === undefined) {
      throw adapterError(
        source,
        `${source.ref}: module ${module} has only one of its two LoRA matrices.`,
        "Save the adapter again with PEFT.",
      );
    }
    const rank = tensors.info(pair.a).shape[0] ?? 0;
    const scale = scaleOf(config, rank, source);
    const kind = pair.embedding ? "embedding" : "linear";
    edits.set(`${module}.weight`, { kind, a: pair.a, b: pair.b, scale });
  }
  return edits;
}

/** Opens an adapter: config checked, tensor headers read, edits grouped; no weights read. */
export async function openAdapter(source: ModelSource): Promise<Adapter> {
  const config = await readConfig(source);
  checkConfig(config, source);
  const tensors = await SafetensorsModel.open(source);
  try {
    return { ref: source.ref, source, tensors, edits: editsOf(tensors, config, source) };
  } catch (error) {
    await tensors.close();
    throw error;
  }
}
