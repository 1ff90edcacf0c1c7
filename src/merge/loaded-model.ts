import { HubmergeError } from "../errors.js";
import { SafetensorsModel } from "../safetensors/reader.js";
import type { ModelSource } from "../source/model-source.js";
import { openAdapter } from "./lora/adapter.js";
import { LoraTensors, type TensorSet } from "./lora/lora-tensors.js";

/** A source model opened for merging: headers read, config parsed, no weights loaded. */
export interface LoadedModel {
  ref: string;
  source: ModelSource;
  tensors: TensorSet;
  config: Record<string, unknown> | undefined;
  /** The LoRA adapter applied while reading (`model+adapter`), with its pinned revision. */
  adapter?: { ref: string; repo?: string; revision: string | undefined };
}

/** Config files are small; a larger one is not a config. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  const [tensors, config] = await Promise.all([SafetensorsModel.open(source), readConfig(source)]);
  return { ref: source.ref, source, tensors, config };
}

/** A base model with a PEFT LoRA adapter applied to its tensors as they are read. */
export async function loadLoraModel(base: ModelSource, adapterSource: ModelSource): Promise<LoadedModel> {
  const [loaded, adapter] = await Promise.all([loadModel(base), openAdapter(adapterSource)]);
  try {
    const tensors = new LoraTensors(loaded.tensors as SafetensorsModel, adapter);
    const ref = `${base.ref}+${adapterSource.ref}`;
    return {
      ...loaded,
      ref,
      tensors,
      adapter: { ref: adapterSource.ref, repo: adapterSource.repo, revision: adapterSource.revision },
    };
  } catch (error) {
    await Promise.all([loaded.tensors.close(), adapter.tensors.close()]);
    throw error;
  }
}

async function readConfig(source: ModelSource): Promise<Record<string, unknown> | undefined> {
  const bytes = await source.readFile("config.json");
  if (!bytes) return undefined;
  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    throw new HubmergeError("E_IO", `config.json is ${bytes.byteLength} bytes, not a model config`, {
      where: { model: source.ref },
    });
  }
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new HubmergeError("E_IO", `config.json is not a JSON object: ${(error as Error).message}`, {
      where: { model: source.ref },
      hint: "fix or remove the model's config.json",
    });
  }
}
