/**
 * `npm run demo`: builds a tiny llama-style base and two fine-tunes (deltas of the size the DARE
 * paper reports for SFT), uploads them to a local Hub-protocol server, merges them from there
 * with examples/demo/merge.yaml, publishes the merge with its model card, explains the result,
 * and ends with `hubmerge verify` on the published repo.
 */
import { createRepo, uploadFiles } from "@huggingface/hub";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { main as hubmerge } from "../src/cli/main.js";
import { progressReporter } from "../src/cli/progress.js";
import { HubmergeError } from "../src/errors.js";
import { hubSession } from "../src/session.js";
import { startLocalHub } from "../src/localhub/index.js";
import { publishMerge, runMerge } from "../src/pipeline/index.js";
import { SafetensorsModel } from "../src/safetensors/reader.js";
import { LocalSource } from "../src/source/local-source.js";
import { TINY_LLAMA, writeTinyLlama } from "../src/synth/tiny-llama.js";

const here = join(dirname(fileURLToPath(import.meta.url)), "demo");
const models = join(here, "models");
const ORG = "hubmerge-demo";
// A token of the local Hub only; never a real one.
const DEMO_TOKEN = "hf_local_demo_token_not_a_secret";
const SOURCES = [
  { name: "tiny-base", variant: { baseSeed: 7 } },
  { name: "tiny-math", variant: { baseSeed: 7, delta: { seed: 101, std: 0.004 } } },
  { name: "tiny-code", variant: { baseSeed: 7, delta: { seed: 202, std: 0.004 } } },
];

async function main(): Promise<void> {
  console.log("1. generating a tiny llama base and two fine-tunes (|delta| ~ 0.004) ...");
  for (const s of SOURCES) await writeTinyLlama(join(models, s.name), TINY_LLAMA, s.variant);

  await rm(join(here, "hub"), { recursive: true, force: true });
  const hub = await startLocalHub({ dir: join(here, "hub"), tokens: [{ token: DEMO_TOKEN, user: ORG }] });
  try {
    console.log(`2. uploading them to a local Hub at ${hub.url} ...`);
    for (const s of SOURCES) await upload(hub.url, s.name);

    console.log("3. merging examples/demo/merge.yaml from the Hub ...");
    const session = hubSession({ hubUrl: hub.url, token: DEMO_TOKEN });
    const result = await runMerge({
      manifestPath: relative(process.cwd(), join(here, "merge.yaml")),
      out: join(here, "out"),
      resolver: session.resolver,
      lineageOf: session.lineageOf,
      hubUrl: hub.url,
      onEvent: progressReporter(process.stderr, true),
    });
    const { record, plan } = result;
    console.log(
      `   ${plan.method.prettyName}: ${plan.recipes.length} tensors in ${result.seconds.toFixed(2)} s, seed ${record.seed}`,
    );
    for (const s of record.sources) console.log(`   source ${s.ref} @ ${s.revision}`);
    console.log(
      `   compatibility: ${result.compat?.blocking ? "BLOCKING" : "compatible"} (${result.compat?.findings.length ?? 0} finding(s))`,
    );

    console.log("4. what the merge kept of each fine-tune:");
    await explain(result.outDir);

    console.log("5. publishing in one commit ...");
    const published = await publishMerge(result, { hub: session.hub });
    console.log(`   ${published.url} at commit ${published.commitSha}`);
    console.log(`   files: ${(await readdir(result.outDir)).sort().join(", ")}`);
    console.log(
      `\n----- model card (README.md) -----\n${await readFile(join(result.outDir, "README.md"), "utf8")}`,
    );
    const target = `${result.manifest.hubmerge.output!.repo}@${published.commitSha}`;
    console.log(`6. hubmerge verify ${target} (a seeded 2% sample, re-created from the pinned sources) ...`);
    const status = await hubmerge([
      "node",
      "hubmerge",
      "verify",
      target,
      "--hub-url",
      hub.url,
      "--token",
      DEMO_TOKEN,
    ]);
    console.log(
      `   verify exited with ${status}: ${status === 0 ? "the published merge is what its record says" : "MISMATCH"}`,
    );
    if (status !== 0) process.exitCode = status;
    console.log(
      `The merged model is in ${relative(process.cwd(), result.outDir)}/ and in the local Hub's ${ORG}/tiny-math-code.`,
    );
    console.log(
      `Serve that Hub again with: npx hubmerge hub serve --dir ${relative(process.cwd(), join(here, "hub"))}`,
    );
  } finally {
    await hub.close();
  }
}

/** Creates a Hub repo and uploads a model folder into it, with the unmodified @huggingface/hub client. */
async function upload(hubUrl: string, name: string): Promise<void> {
  const dir = join(models, name);
  await writeFile(join(dir, "README.md"), sourceCard(name));
  const files = (await readdir(dir)).sort().map((file) => pathToFileURL(join(dir, file)));
  const repo = { type: "model" as const, name: `${ORG}/${name}` };
  await createRepo({ repo, hubUrl, accessToken: DEMO_TOKEN });
  await uploadFiles({
    repo,
    files,
    hubUrl,
    accessToken: DEMO_TOKEN,
    commitTitle: `Upload ${name}`,
    useXet: false,
  });
}

/** Source cards say where each model comes from: the compatibility check follows that lineage. */
function sourceCard(name: string): string {
  const lineage = name === "tiny-base" ? "" : `base_model: ${ORG}/tiny-base\n`;
  return `---\n${lineage}license: apache-2.0\npipeline_tag: text-generation\n---\n\n# ${name}\n\nA synthetic demo model.\n`;
}

/**
 * For each fine-tune i, compares the merged task vector M = merged − base with δᵢ: cosine
 * similarity and the projection ⟨M, δᵢ⟩ / ⟨δᵢ, δᵢ⟩. DARE keeps 20% of each delta and rescales it
 * 5×, so the projection stays near each model's weight (0.5) although most entries were dropped.
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
    let changed = 0;
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
        if (mix !== 0) changed++;
        total++;
      }
    }
    await tuned.close();
    console.log(
      `   ${name}: projection of the merged delta on its delta = ${(dot / dd).toFixed(3)} (weight 0.5),` +
        ` cosine = ${(dot / Math.sqrt(mm * dd)).toFixed(3)}; ${((100 * changed) / total).toFixed(1)}% of weights differ from the base`,
    );
  }
  await Promise.all([merged.close(), base.close()]);
}

main().catch((error: unknown) => {
  console.error(error instanceof HubmergeError ? error.format() : error);
  process.exitCode = 1;
});
