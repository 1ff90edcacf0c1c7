/**
 * The run record, hubmerge.json: what a merge was made from (tool, manifest hash, method, seed,
 * pinned sources) and what it produced (each file's size and sha256). The output folder keeps it
 * beside the weights, the card shows it, the publisher reads the previous one to know which files
 * of an earlier output to delete, and a later local run takes it as leave to replace the folder.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SHARD_INDEX_FILE } from "./safetensors/shard-index.js";
import type { WrittenShard } from "./safetensors/writer.js";
import { TOOL } from "./version.js";

/** The record's file name in an output folder (and in the published repo). */
export const RUN_RECORD_FILE = "hubmerge.json";

/** A file the merge wrote, as the record lists it. */
export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}

/** What a merge was made from and what it produced; written as hubmerge.json beside the weights. */
export interface RunRecord {
  tool: { name: string; version: string };
  manifest: { file: string; sha256: string };
  method: string;
  seed: string;
  dareRescale: string;
  sources: { ref: string; revision: string | null }[];
  dtype: string;
  files: OutputFile[];
  warnings: string[];
}

export interface RunRecordInput {
  /** The output folder the shards were written to. */
  dir: string;
  manifest: { file: string; sha256: string };
  method: string;
  seed: bigint;
  dareRescale: string;
  sources: { ref: string; revision: string | null }[];
  dtype: string;
  shards: readonly WrittenShard[];
  warnings: string[];
}

/** The record of a finished merge; the shard index (written when there are several shards) is hashed too. */
export async function buildRunRecord(input: RunRecordInput): Promise<RunRecord> {
  const files: OutputFile[] = input.shards.map(({ file, size, sha256 }) => ({ path: file, size, sha256 }));
  if (files.length > 1) files.push(await describeFile(input.dir, SHARD_INDEX_FILE));
  // The key order is the file's byte layout: keep it as it is.
  return {
    tool: TOOL,
    manifest: input.manifest,
    method: input.method,
    seed: input.seed.toString(),
    dareRescale: input.dareRescale,
    sources: input.sources,
    dtype: input.dtype,
    files,
    warnings: input.warnings,
  };
}

export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFile(join(dir, RUN_RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
}

/** The file list of a previous hubmerge.json, tolerating anything malformed. */
export function recordedFiles(recordJson: Uint8Array | null): string[] {
  if (!recordJson) return [];
  try {
    const record = JSON.parse(new TextDecoder().decode(recordJson)) as { files?: unknown };
    if (!Array.isArray(record.files)) return [];
    return record.files.flatMap((f: unknown) =>
      typeof f === "object" && f !== null && typeof (f as { path?: unknown }).path === "string"
        ? [(f as { path: string }).path]
        : [],
    );
  } catch {
    return [];
  }
}

/** Hashes a file as a stream: shards are gigabytes. */
async function describeFile(dir: string, path: string): Promise<OutputFile> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(join(dir, path))) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { path, size, sha256: hash.digest("hex") };
}
