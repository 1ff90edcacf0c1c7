/**
 * `npm run demo`: builds a tiny llama-style base and two fine-tunes (deltas of the size the DARE
 * paper reports for SFT), merges them with the manifest in examples/demo/, and explains the result.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { progressReporter } from "../src/cli/progress.js";
import { HubmergeError } from "../src/errors.js";
import { runMerge } from "../src/pipeline.js";
import { SafetensorsModel } from "../src/safetensors/reader.js";
import { LocalSource } from "../src/source/local-source.js";
import { TINY_LLAMA, writeTinyLlama } from "../src/synth/tiny-llama.js";

const here = join(dirname(fileURLToPath(import.meta.url)), "demo");
const models = join(here, "models");
const BASE_SEED = 7;
const DELTA_STD = 0.004;

async function main(): Promise<void> {
  console.log("1. generating a tiny llama base and two fine-tunes (|delta| ~ 0.004) ...");
  await writeTinyLlama(join(models, "tiny-base"), TINY_LLAMA, { baseSeed: BASE_SEED });
  await writeTinyLlama(join(models, "tiny-math"), TINY_LLAMA, {
    baseSeed: BASE_SEED,
    delta: { seed: 101, std: DELTA_STD },
  });
  await writeTinyLlama(join(models, "tiny-code"), TINY_LLAMA, {
    baseSeed: BASE_SEED,
    delta: { seed: 202, std: DELTA_STD },
  });

  console.log("2. merging examples/demo/merge.yaml ...");
  const result = await runMerge({
    manifestPath: relative(process.cwd(), join(here, "merge.yaml")),
    out: join(here, "out"),
    onEvent: progressReporter(process.stderr, false),
  });
  const { record, plan } = result;
  console.log(
    `   ${plan.method.prettyName}: ${plan.recipes.length} tensors in ${result.seconds.toFixed(2)} s, seed ${record.seed}`,
  );
  for (const file of record.files)
    console.log(`   ${file.path}  ${file.size} bytes  sha256 ${file.sha256.slice(0, 16)}…`);

  console.log("3. what the merge kept of each fine-tune:");
  await explain(join(here, "out"));
  console.log(
    `\nThe merged model is in ${relative(process.cwd(), result.outDir)}/ (config, tokenizer, weights, hubmerge.json).`,
  );
  console.log(`Run record:\n${await readFile(join(result.outDir, "hubmerge.json"), "utf8")}`);
}

/**
 * For each fine-tune i, compares the merged task vector M = merged − base with δᵢ: cosine
 * similarity and the projection ⟨M, δᵢ⟩ / ⟨δᵢ, δᵢ⟩. With weights 0.5 and independent deltas, an
 * exact average would give cosine ≈ 0.71 and projection 0.5 for each; DARE keeps 20% of each delta
 * (rescaled 5×), and TIES drops the elements where the two disagree in sign.
 */
async function explain(outDir: string): Promise<void> {
  const open = async (dir: string) => SafetensorsModel.open(new LocalSource(dir, dir));
  const merged = await open(outDir);
  const base = await open(join(models, "tiny-base"));
  for (const name of ["tiny-math", "tiny-code"]) {
    const tuned = await open(join(models, name));
    let dot = 0;
    let mm = 0;
    let dd = 0;
    let kept = 0;
    let total = 0;
    for (const tensor of base.tensorNames()) {
      const [b, t, m] = await Promise.all([
        base.readTensorF32(tensor),
        tuned.readTensorF32(tensor),
        merged.readTensorF32(tensor),
      ]);
      for (let i = 0; i < b.length; i++) {
        const delta = t[i]! - b[i]!;
        const mix = m[i]! - b[i]!;
        dot += mix * delta;
        mm += mix * mix;
        dd += delta * delta;
        if (mix !== 0) kept++;
        total++;
      }
    }
    const cosine = dot / Math.sqrt(mm * dd);
    console.log(
      `   ${name}: cosine(merged delta, its delta) = ${cosine.toFixed(3)}, projection = ${(dot / dd).toFixed(3)}` +
        ` (${((100 * kept) / total).toFixed(1)}% of weights changed from the base)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof HubmergeError ? error.format() : error);
  process.exitCode = 1;
});
