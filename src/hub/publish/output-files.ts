/**
 * The local side of a publish: which files a finished output folder holds, a last check that
 * none of them contains the access token, and which files of the repo's previous output the new
 * commit must delete (old shard names, a tokenizer file the new base does not have).
 */
import { open, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { HubmergeError } from "../../errors.js";
import { TOKENIZER_FILES } from "../../merge/aux-files.js";

/** A file of the local output folder, as the publisher uploads it (the run record lists its own view). */
export interface FolderFile {
  /** `/`-separated, relative to the folder. */
  path: string;
  absolutePath: string;
  size: number;
}

/** Files up to this size are searched for the token whole; larger ones (shards) by their head. */
const FULL_SCAN_BYTES = 64 * 1024 * 1024;
const HEAD_SCAN_BYTES = 1024 * 1024;

export async function listOutputFiles(dir: string): Promise<FolderFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new HubmergeError("E_IO", `cannot read the output folder ${dir}: ${(error as Error).message}`, {
      hint: "publish a folder that a finished merge wrote",
      cause: error,
    });
  }
  const files: FolderFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolutePath = join(entry.parentPath, entry.name);
    const path = relative(dir, absolutePath).split(sep).join("/");
    if (path.startsWith(".git/") || path === ".gitattributes") continue;
    const handle = await open(absolutePath, "r");
    const size = (await handle.stat()).size;
    await handle.close();
    files.push({ path, absolutePath, size });
  }
  if (files.length === 0) {
    throw new HubmergeError("E_IO", `the output folder ${dir} is empty`, {
      hint: "publish a folder that a finished merge wrote",
    });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Refuses to publish a file that contains the token (the message names the file, not the token). */
export async function assertNoTokenInFiles(files: FolderFile[], token: string): Promise<void> {
  const needle = Buffer.from(token);
  for (const file of files) {
    const limit = file.size <= FULL_SCAN_BYTES ? file.size : HEAD_SCAN_BYTES;
    const handle = await open(file.absolutePath, "r");
    try {
      const bytes = Buffer.alloc(limit);
      await handle.read(bytes, 0, limit, 0);
      if (bytes.includes(needle)) {
        throw new HubmergeError("E_USAGE", `refusing to publish: ${file.path} contains the access token`, {
          hint: "remove the token from that file (and revoke it, as it may have been copied elsewhere)",
        });
      }
    } finally {
      await handle.close();
    }
  }
}

/** Names a merge writes; anything else in the repo (images, notes) belongs to the user. */
export function isModelOutputFile(path: string): boolean {
  const name = path.split("/").pop() ?? path;
  if (path !== name) return false;
  return (
    name.endsWith(".safetensors") ||
    name.endsWith(".safetensors.index.json") ||
    /^pytorch_model.*\.bin(?:\.index\.json)?$/.test(name) ||
    name === "config.json" ||
    name === "generation_config.json" ||
    TOKENIZER_FILES.includes(name)
  );
}

/**
 * Files of the previous output that the new one no longer produces: those the previous run record
 * listed, and model files (weights, index, config, tokenizer) that would now contradict the new
 * ones. README.md and .gitattributes are never deleted.
 */
export function staleFiles(
  existing: string[],
  produced: ReadonlySet<string>,
  previousRecord: readonly string[],
): string[] {
  const recorded = new Set(previousRecord);
  return existing
    .filter((path) => path !== ".gitattributes" && path !== "README.md" && !produced.has(path))
    .filter((path) => recorded.has(path) || isModelOutputFile(path))
    .sort();
}
