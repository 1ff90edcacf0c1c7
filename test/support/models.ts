import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  TINY_LLAMA,
  writeTinyLlama,
  type TinyLlamaSpec,
  type VariantSpec,
} from "../../src/synth/tiny-llama.js";

/** A smaller model than the demo's: enough tensors of every kind, fast to merge. */
export const TEST_LLAMA: TinyLlamaSpec = {
  ...TINY_LLAMA,
  hiddenSize: 32,
  layers: 3,
  intermediateSize: 48,
  vocabSize: 64,
};

/** Writes a base and fine-tunes of it under `dir`: `base`, `ft1`, `ft2`, ... */
export async function writeFamily(
  dir: string,
  options: { fineTunes?: number; spec?: TinyLlamaSpec; extra?: Partial<VariantSpec> } = {},
): Promise<{ base: string; fineTunes: string[] }> {
  const spec = options.spec ?? TEST_LLAMA;
  const base = join(dir, "base");
  await writeTinyLlama(base, spec, { baseSeed: 1, ...options.extra });
  const fineTunes: string[] = [];
  for (let i = 1; i <= (options.fineTunes ?? 2); i++) {
    const path = join(dir, `ft${i}`);
    await writeTinyLlama(path, spec, { baseSeed: 1, delta: { seed: 100 + i, std: 0.004 }, ...options.extra });
    fineTunes.push(path);
  }
  return { base, fineTunes };
}

export async function writeManifest(dir: string, text: string, name = "merge.yaml"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
