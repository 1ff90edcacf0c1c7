/** Fixture models and a loader for the compatibility tests. */
import { join } from "node:path";
import { runCheck, type CheckInput } from "../../src/compat/check.js";
import type { CompatReport, Finding } from "../../src/compat/report.js";
import { loadManifest } from "../../src/manifest/parse.js";
import { modelKey } from "../../src/model-ref.js";
import type { Manifest } from "../../src/manifest/types.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { loadModel, type LoadedModel } from "../../src/merge/loaded-model.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import { closeModels, referencedModels } from "../../src/pipeline/index.js";
import type { ByteSource } from "../../src/source/byte-source.js";
import { LocalSource } from "../../src/source/local-source.js";
import type { ModelSource } from "../../src/source/model-source.js";
import { writeTinyLlama, type TinyLlamaSpec, type VariantSpec } from "../../src/synth/tiny-llama.js";
import { TEST_LLAMA, writeManifest } from "../support/models.js";

/** The fixture models, by folder name. */
export const FIXTURES: Record<string, { spec?: Partial<TinyLlamaSpec>; variant: VariantSpec }> = {
  base: { variant: { baseSeed: 1 } },
  ft1: { variant: { baseSeed: 1, delta: { seed: 101, std: 0.004 } } },
  ft2: { variant: { baseSeed: 1, delta: { seed: 102, std: 0.004 } } },
  // Same shapes, another pre-training: the WizardLM (LLaMA-1) vs Llama-2 case.
  other: { variant: { baseSeed: 2, delta: { seed: 103, std: 0.004 } } },
  cpt: { variant: { baseSeed: 1, delta: { seed: 104, std: 0.03 } } },
  wide: { spec: { hiddenSize: 64 }, variant: { baseSeed: 1, delta: { seed: 105, std: 0.004 } } },
  deep: { spec: { layers: 5 }, variant: { baseSeed: 1, delta: { seed: 106, std: 0.004 } } },
  vocab: { variant: { baseSeed: 1, delta: { seed: 107, std: 0.004 }, vocabSize: 80 } },
  heads: { spec: { heads: 8, kvHeads: 4 }, variant: { baseSeed: 1, delta: { seed: 108, std: 0.004 } } },
};

export async function writeFixtures(dir: string, names: readonly string[], spec = TEST_LLAMA): Promise<void> {
  for (const name of names) {
    const fixture = FIXTURES[name]!;
    await writeTinyLlama(join(dir, name), { ...spec, ...fixture.spec }, fixture.variant);
  }
}

/** Wraps a model source so that every byte read through open() is counted. */
export function countingSource(source: ModelSource, counter: { bytes: number }): ModelSource {
  return {
    ref: source.ref,
    revision: source.revision,
    listFiles: () => source.listFiles(),
    readFile: (path) => source.readFile(path),
    async open(path): Promise<ByteSource> {
      const inner = await source.open(path);
      return {
        name: inner.name,
        size: inner.size,
        async read(offset, length) {
          const bytes = await inner.read(offset, length);
          counter.bytes += bytes.byteLength;
          return bytes;
        },
        close: () => inner.close?.() ?? Promise.resolve(),
      };
    },
  };
}

export interface LoadedRun {
  manifest: Manifest;
  models: Map<string, LoadedModel>;
  /** Bytes read through each model's sources, by model reference as written. */
  counters: Map<string, { bytes: number }>;
}

export async function loadRun(manifestPath: string): Promise<LoadedRun> {
  const manifest = await loadManifest(manifestPath);
  validateManifest(manifest, methodRegistry);
  const counters = new Map<string, { bytes: number }>();
  const models = new Map<string, LoadedModel>();
  for (const ref of referencedModels(manifest)) {
    const counter = { bytes: 0 };
    counters.set(ref.raw, counter);
    const source = countingSource(await LocalSource.open(ref.raw, ref.path!), counter);
    models.set(modelKey(ref), await loadModel(source));
  }
  return { manifest, models, counters };
}

/** Writes the manifest, loads its models, runs the check and closes the models. */
export async function checkManifest(
  dir: string,
  text: string,
  options: Omit<CheckInput, "manifest" | "method" | "models"> = {},
): Promise<CompatReport> {
  const run = await loadRun(await writeManifest(dir, text));
  try {
    const method = methodRegistry.get(run.manifest.mergeMethod)!;
    return await runCheck({ manifest: run.manifest, method, models: run.models, ...options });
  } finally {
    await closeModels(run.models);
  }
}

export function findingsOf(report: CompatReport, model: string, code?: string): Finding[] {
  return report.findings.filter((f) => f.model === model && (code === undefined || f.code === code));
}

export function taskManifest(models: readonly string[], method = "dare_ties", extra = ""): string {
  const entries = models
    .map((m) => `  - model: ./${m}\n    parameters: {weight: 0.5, density: 0.3}\n`)
    .join("");
  return `merge_method: ${method}\nbase_model: ./base\nmodels:\n${entries}${extra}`;
}
