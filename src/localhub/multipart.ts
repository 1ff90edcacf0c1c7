/**
 * The Hub's multipart LFS upload: the batch answer lists one URL per part, each part is PUT
 * separately (answering an ETag), then a completion POST names the parts and their ETags. Parts
 * are staged on disk; completion streams them, in order, through the same sha256 check as a
 * single upload.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HashingLimit, type BlobStore } from "./blob-store.js";
import { HubError } from "./hub-error.js";

export interface MultipartPlan {
  /** The repo the upload is for: two repos uploading one object stage their parts apart. */
  repo: string;
  oid: string;
  size: number;
  chunkSize: number;
}

/** As on S3, an object has at most this many parts; larger objects get larger parts. */
export const MAX_PARTS = 10_000;

/** The plan for uploading `size` bytes in parts of `chunkSize`, or larger ones to stay within MAX_PARTS. */
export function planMultipart(repo: string, oid: string, size: number, chunkSize: number): MultipartPlan {
  return { repo, oid, size, chunkSize: Math.max(chunkSize, Math.ceil(size / MAX_PARTS)) };
}

export function partCount(plan: MultipartPlan): number {
  return Math.max(1, Math.ceil(plan.size / plan.chunkSize));
}

/** Size of part `n` (1-based): full chunks, then the remainder. */
export function partSize(plan: MultipartPlan, n: number): number {
  return Math.min(plan.chunkSize, plan.size - (n - 1) * plan.chunkSize);
}

function stagingDir(store: BlobStore, plan: MultipartPlan): string {
  const repoKey = createHash("sha256").update(plan.repo).digest("hex").slice(0, 16);
  return join(store.tmpDir, "multipart", `${plan.oid}-${plan.size}-${plan.chunkSize}-${repoKey}`);
}

/** Stores part `n`; returns its quoted ETag (md5, as S3 does). */
export async function stagePart(
  store: BlobStore,
  plan: MultipartPlan,
  n: number,
  source: Readable,
): Promise<string> {
  if (!Number.isInteger(n) || n < 1 || n > partCount(plan)) {
    throw new HubError(400, `part ${n} is outside 1..${partCount(plan)}`);
  }
  const expected = partSize(plan, n);
  const dir = stagingDir(store, plan);
  await mkdir(dir, { recursive: true });
  const tmp = store.tempFile("part");
  const check = new HashingLimit(expected, "md5");
  try {
    await pipeline(source, check, createWriteStream(tmp));
    if (check.received !== expected) {
      throw new HubError(400, `part ${n} has ${check.received} bytes, expected ${expected}`);
    }
    await rename(tmp, join(dir, String(n)));
    return `"${check.digest()}"`;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Assembles the staged parts into the LFS store after checking the client's part list. */
export async function completeMultipart(
  store: BlobStore,
  plan: MultipartPlan,
  parts: { partNumber: number; etag: string }[],
): Promise<void> {
  const count = partCount(plan);
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  if (sorted.length !== count || sorted.some((part, i) => part.partNumber !== i + 1)) {
    throw new HubError(400, `multipart completion must list parts 1..${count} exactly once`);
  }
  const dir = stagingDir(store, plan);
  try {
    await store.ingestLfs(readParts(dir, sorted), plan);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new HubError(400, `multipart upload of ${plan.oid} is missing a part; upload all parts first`);
    }
    throw error;
  }
  await rm(dir, { recursive: true, force: true });
}

/** Streams the parts in order, checking each against the ETag the client reported for it. */
async function* readParts(dir: string, parts: { partNumber: number; etag: string }[]) {
  for (const part of parts) {
    const md5 = createHash("md5");
    for await (const chunk of createReadStream(join(dir, String(part.partNumber)))) {
      md5.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    if (unquote(part.etag) !== md5.digest("hex")) {
      throw new HubError(400, `ETag of part ${part.partNumber} does not match the uploaded part`);
    }
  }
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}
