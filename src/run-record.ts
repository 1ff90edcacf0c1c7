/**
 * The run record, hubmerge.json: what a merge was made from (tool, manifest hash, method, seed,
 * pinned sources) and what it produced (each file's size and sha256). The output folder keeps it
 * beside the weights, the card shows it, the publisher reads the previous one to know which files
 * of an earlier output to delete, and a later local run takes it as leave to replace the folder.
 * It also keeps the manifest's text and every output tensor's sha256, so that `hubmerge verify`
 * can re-create any part of the merge and compare (docs/verify.md).
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

/** Where a large model's tensor digests go instead of hubmerge.json (which stays small to read). */
export const TENSOR_DIGESTS_FILE = "hubmerge.tensors.json";

/**
 * Up to this many tensors, their digests sit in hubmerge.json itself (about 130 bytes each: a 70B
 * Llama's 723 tensors make ~95 KB). Beyond it (mixtures of experts have tens of thousands) they
 * go to hubmerge.tensors.json, which the record names by size and sha256.
 */
export const INLINE_TENSOR_DIGESTS = 1024;

/** One output tensor: the shard it lives in and the sha256 (hex) of its bytes there. */
export interface TensorDigest {
  name: string;
  shard: string;
  sha256: string;
}

/** The separate digest file, as hubmerge.json references it. */
export interface TensorDigestsFile {
  path: string;
  size: number;
  sha256: string;
  count: number;
}

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
  /**
   * Present when Hub sources were read through the cache: every cached block and range matched
   * the sha256 recorded (HMAC-signed) when it was fetched; whatever did not was fetched again.
   */
  sourceCache?: "verified";
  /** The manifest's text (its sha256 is `manifest.sha256`): what verify re-creates the merge from. */
  manifestText?: string;
  /** Per-tensor digests in file order, inline; or `tensorsFile` for large models. Absent in old records. */
  tensors?: TensorDigest[];
  tensorsFile?: TensorDigestsFile;
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
  sourceCache?: "verified";
  manifestText: string;
  /** Tensors above which the digests go to their own file (default INLINE_TENSOR_DIGESTS). */
  inlineTensorLimit?: number;
}

/**
 * The record of a finished merge; the shard index (written when there are several shards) is
 * hashed too. Above `inlineTensorLimit` tensors, this writes hubmerge.tensors.json into `dir`.
 */
export async function buildRunRecord(input: RunRecordInput): Promise<RunRecord> {
  const files: OutputFile[] = input.shards.map(({ file, size, sha256 }) => ({ path: file, size, sha256 }));
  if (files.length > 1) files.push(await describeFile(input.dir, SHARD_INDEX_FILE));
  const digests = input.shards.flatMap((shard) =>
    shard.tensors.map(({ name, sha256 }) => ({ name, shard: shard.file, sha256 })),
  );
  const tensors =
    digests.length > (input.inlineTensorLimit ?? INLINE_TENSOR_DIGESTS)
      ? { tensorsFile: await writeTensorDigests(input.dir, digests) }
      : { tensors: digests };
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
    ...(input.sourceCache === undefined ? {} : { sourceCache: input.sourceCache }),
    manifestText: input.manifestText,
    ...tensors,
  };
}

/** The digest file's bytes: a JSON array, one tensor per line, so a diff shows which changed. */
export function encodeTensorDigests(digests: readonly TensorDigest[]): string {
  return `[\n${digests.map((d) => JSON.stringify(d)).join(",\n")}\n]\n`;
}

async function writeTensorDigests(dir: string, digests: TensorDigest[]): Promise<TensorDigestsFile> {
  const bytes = Buffer.from(encodeTensorDigests(digests));
  await writeFile(join(dir, TENSOR_DIGESTS_FILE), bytes);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { path: TENSOR_DIGESTS_FILE, size: bytes.byteLength, sha256, count: digests.length };
}

export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFile(join(dir, RUN_RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
}

/** The file list of a previous hubmerge.json, tolerating anything malformed. */
export function recordedFiles(recordJson: Uint8Array | null): string[] {
  if (!recordJson) return [];
  try {
    const record = JSON.parse(new TextDecoder().decode(recordJson)) as {
      files?: unknown;
      tensorsFile?: unknown;
    };
    if (!Array.isArray(record.files)) return [];
    const hasPath = (f: unknown): f is { path: string } =>
      typeof f === "object" && f !== null && typeof (f as { path?: unknown }).path === "string";
    const paths = record.files.flatMap((f: unknown) => (hasPath(f) ? [f.path] : []));
    if (hasPath(record.tensorsFile) && record.tensorsFile.path === TENSOR_DIGESTS_FILE)
      paths.push(TENSOR_DIGESTS_FILE);
    return paths;
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
