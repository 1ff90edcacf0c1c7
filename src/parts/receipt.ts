/**
 * The part receipt: what one part of a split merge was made from (manifest hash, tool version,
 * seed, pinned sources, shard size) and what it produced (each shard's name, size and sha256).
 * The assembly trusts nothing else about a part; it reads receipts as untrusted JSON.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import type { WrittenShard } from "../safetensors/writer.js";
import type { SourcePin } from "./pins.js";
import type { PartSpec } from "./split.js";

export const RECEIPT_FORMAT = "hubmerge-part/1";
/** Receipts are small; anything larger is not one. */
const MAX_RECEIPT_BYTES = 16 * 1024 * 1024;

export interface PartReceipt {
  format: typeof RECEIPT_FORMAT;
  tool: { name: string; version: string };
  manifest: { file: string; sha256: string };
  seed: string;
  sources: SourcePin[];
  /** The shard size limit the shard plan was made with (parts must agree on the plan). */
  maxShardBytes: number | null;
  part: PartSpec;
  /** Shards in the whole plan. */
  shardCount: number;
  shards: WrittenShard[];
  /** Warnings of this part's execution, in the order they arose. */
  warnings: string[];
  /** Whether the shards were uploaded to the output repo as LFS objects (`--push`). */
  uploaded: boolean;
}

/** A receipt as found on disk: the folder beside it holds the part's shards (a local part). */
export interface FoundReceipt {
  receipt: PartReceipt;
  path: string;
  dir: string;
}

export function receiptFileName(part: PartSpec): string {
  const pad = (n: number) => String(n).padStart(5, "0");
  return `hubmerge-part-${pad(part.index)}-of-${pad(part.count)}.json`;
}

export async function writeReceipt(dir: string, receipt: PartReceipt): Promise<string> {
  const path = join(dir, receiptFileName(receipt.part));
  await writeFile(path, JSON.stringify(receipt, null, 2) + "\n");
  return path;
}

/** The receipt of `part` in a part's output folder, if it holds a valid one. */
export async function readPartReceipt(dir: string, part: PartSpec): Promise<PartReceipt | undefined> {
  const path = join(dir, receiptFileName(part));
  const text = await readFile(path).catch(() => undefined);
  if (!text || text.byteLength > MAX_RECEIPT_BYTES) return undefined;
  try {
    return parseReceipt(text.toString("utf8"), path);
  } catch {
    return undefined;
  }
}

/** Every receipt under `dir` (artifact downloads put each part in a folder of its own). */
export async function findReceipts(dir: string): Promise<FoundReceipt[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new HubmergeError("E_USAGE", `cannot read the parts folder ${dir}: ${(error as Error).message}`, {
      hint: "pass --parts the folder that holds the parts' receipts",
      cause: error,
    });
  }
  const found: FoundReceipt[] = [];
  const names = entries
    .filter((e) => e.isFile() && /^hubmerge-part-\d+-of-\d+\.json$/.test(e.name))
    .map((e) => ({ dir: e.parentPath, path: join(e.parentPath, e.name) }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const { dir: partDir, path } of names) {
    const text = await readFile(path);
    if (text.byteLength > MAX_RECEIPT_BYTES) throw receiptError(path, "it is too large to be a receipt");
    found.push({ receipt: parseReceipt(text.toString("utf8"), path), path, dir: partDir });
  }
  return found;
}

function parseReceipt(text: string, path: string): PartReceipt {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw receiptError(path, "it is not JSON");
  }
  const r = value as Partial<PartReceipt> | null;
  const isInt = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const sha256Ok = (hex: unknown) => typeof hex === "string" && /^[0-9a-f]{64}$/.test(hex);
  const shardOk = (s: Partial<WrittenShard> | null) =>
    typeof s?.file === "string" &&
    isInt(s.size) &&
    sha256Ok(s.sha256) &&
    // Each tensor's digest travels with its shard, so the assembled record lists them all.
    Array.isArray(s.tensors) &&
    s.tensors.every((t) => typeof t?.name === "string" && sha256Ok(t.sha256));
  const ok =
    r?.format === RECEIPT_FORMAT &&
    typeof r.tool?.name === "string" &&
    typeof r.tool.version === "string" &&
    typeof r.manifest?.sha256 === "string" &&
    typeof r.seed === "string" &&
    Array.isArray(r.sources) &&
    (r.maxShardBytes === null || isInt(r.maxShardBytes)) &&
    isInt(r.part?.index) &&
    isInt(r.part?.count) &&
    isInt(r.shardCount) &&
    Array.isArray(r.shards) &&
    r.shards.every(shardOk) &&
    Array.isArray(r.warnings) &&
    typeof r.uploaded === "boolean";
  if (!ok) throw receiptError(path, `it is not a part receipt (${RECEIPT_FORMAT})`);
  return r as PartReceipt;
}

function receiptError(path: string, why: string): HubmergeError {
  return new HubmergeError("E_USAGE", `${path} cannot be used: ${why}`, {
    hint: "pass --parts a folder holding only the receipts that hubmerge merge --part wrote",
  });
}
