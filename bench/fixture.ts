/**
 * What the bench's modes share (bench/run.ts, link.ts, parts.ts): generated models, a local Hub
 * that serves them, the merge they run, and one measurement run in a child process so that its
 * peak RSS is its own.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalHub, type LinkPacing, type LocalHub } from "../src/localhub/index.js";
import { shapeForSize, writeModelSet, type ModelShape } from "./synth-models.js";
import { folderFiles } from "../test/support/hub-models.js";

/** Every mode merges a base and this many fine-tunes of it. */
export const FINE_TUNES = 2;

/** Medium tensors (a 512-wide model with an 8k vocabulary): a few MB each, many of them. */
export const LINK_DIMENSIONS: Omit<ModelShape, "layers"> = {
  hiddenSize: 512,
  heads: 8,
  kvHeads: 2,
  intermediateSize: 1408,
  vocabSize: 8192,
  dtype: "BF16",
};

export interface BenchModels {
  shape: ModelShape;
  /** The base first, then the fine-tunes. */
  folders: string[];
}

/**
 * Base + fine-tunes of about `size` bytes each under `dir` (reused when a finished set of that
 * shape is there). A shape with as many layers as `avoid` gets twice its layers, so that two sizes
 * always differ.
 */
export async function benchModels(options: {
  dir: string;
  size: number;
  dimensions: Omit<ModelShape, "layers">;
  /** Names the folder (`link-12-layers`); none for the CPU table (`12-layers`). */
  prefix?: string;
  avoid?: ModelShape;
}): Promise<BenchModels> {
  let shape = shapeForSize(options.size, options.dimensions);
  if (options.avoid && shape.layers === options.avoid.layers)
    shape = { ...shape, layers: options.avoid.layers * 2 };
  const name = `${options.prefix ? `${options.prefix}-` : ""}${shape.layers}-layers`;
  const folders = await writeModelSet(join(options.dir, name), shape, FINE_TUNES);
  return { shape, folders };
}

/** The merge every Hub mode runs: DARE-TIES of the fine-tunes over the base. */
export const MANIFEST = (refs: string[], hubmerge = "{seed: 1234}") => `merge_method: dare_ties
base_model: ${refs[0]}
models:
  - model: ${refs[1]}
    parameters: {weight: 0.5, density: 0.3}
  - model: ${refs[2]}
    parameters: {weight: 0.5, density: 0.3}
dtype: bfloat16
hubmerge: ${hubmerge}
`;

/** The write token of the bench's Hub (a local server on 127.0.0.1, gone when the bench ends). */
export const BENCH_TOKEN = "hf_bench_link_token_0123456789";

/** A local Hub in CDN mode (LFS files redirected, as on the real Hub) that takes BENCH_TOKEN. */
export function startBenchHub(dir: string, pacing?: LinkPacing): Promise<LocalHub> {
  return startLocalHub({ dir, cdn: true, pacing, tokens: [{ token: BENCH_TOKEN, user: "bench" }] });
}

/** Uploads the models through the admin API (not the paced link): repos `bench/base`, `bench/ft1`, … */
export async function seedHub(hub: LocalHub, folders: string[]): Promise<string[]> {
  const refs: string[] = [];
  for (const [i, folder] of folders.entries()) {
    const repo = `bench/${i === 0 ? "base" : `ft${i}`}`;
    await hub.admin.createRepo(repo);
    await hub.admin.commit(repo, await folderFiles(folder));
    refs.push(repo);
  }
  return refs;
}

/** The child script `name` beside the module at `url` (`.js` when the bench is compiled). */
export function childBeside(url: string, name: string): string {
  return fileURLToPath(url).replace(/[^/\\]+?(\.[cm]?[jt]s)$/, `${name}$1`);
}

/**
 * Runs `script` with `config` as its JSON argument in a fresh process and returns the result it
 * prints on the line that starts with `prefix`. `what` names the child in errors.
 */
export async function runChild<T>(script: string, config: unknown, prefix: string, what: string): Promise<T> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(config)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`${what} exited with ${code}`)),
    );
  });
  const line = output.split("\n").find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`${what} printed no result:\n${output}`);
  return JSON.parse(line.slice(prefix.length)) as T;
}
