import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalHub } from "../../src/localhub/index.js";

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
