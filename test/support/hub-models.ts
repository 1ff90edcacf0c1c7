import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { LocalHub } from "../../src/localhub/index.js";
import { writeTinyLlama } from "../../src/synth/tiny-llama.js";
import { TEST_LLAMA } from "./models.js";

/** Every file under `folder`, by its `/`-separated path relative to it (for `hub.admin.commit`). */
export async function folderFiles(folder: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(folder, path).split(sep).join("/")] = new Uint8Array(await readFile(path));
  }
  return files;
}

/** Creates a repo in the local Hub (if needed) and commits a model folder into it; returns the sha. */
export async function seedHubModel(
  hub: LocalHub,
  repo: string,
  dir: string,
  message = "upload",
): Promise<string> {
  let exists = true;
  try {
    hub.admin.head(repo);
  } catch {
    exists = false;
  }
  if (!exists) await hub.admin.createRepo(repo);
  const files: Record<string, Uint8Array> = {};
  for (const name of await readdir(dir)) files[name] = new Uint8Array(await readFile(join(dir, name)));
  return hub.admin.commit(repo, files, message);
}

/** A base and two fine-tunes of it, as `acme/base`, `acme/ft1`, `acme/ft2` in the local Hub. */
export async function seedFamilyOnHub(hub: LocalHub, modelsDir: string): Promise<void> {
  for (const [name, delta] of [
    ["base", undefined],
    ["ft1", 101],
    ["ft2", 102],
  ] as const) {
    const dir = join(modelsDir, name);
    await writeTinyLlama(dir, TEST_LLAMA, {
      baseSeed: 1,
      ...(delta ? { delta: { seed: delta, std: 0.004 } } : {}),
    });
    await seedHubModel(hub, `acme/${name}`, dir);
  }
}

/** A DARE-TIES merge of that family into `acme/merged`. */
export const FAMILY_MANIFEST = `merge_method: dare_ties
base_model: acme/base
models:
  - model: acme/ft1
    parameters: {weight: 0.5, density: 0.3}
  - model: acme/ft2
    parameters: {weight: 0.5, density: 0.3}
dtype: bfloat16
hubmerge:
  output: {repo: acme/merged}
  seed: 5
`;
