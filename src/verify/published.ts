/**
 * The published files against their record, by range reads only: each shard's size (from the
 * listing) and header, the shard index, and the bytes of the sampled tensors. Nothing else of a
 * shard is read, so checking a 140 GB repo costs its headers and the sample.
 */
import { createHash } from "node:crypto";
import { HubmergeError, isHubmergeError } from "../errors.js";
import type { RunRecord, TensorDigest } from "../run-record.js";
import { parseHeader, type SafetensorsHeader } from "../safetensors/header.js";
import { SHARD_INDEX_FILE } from "../safetensors/shard-index.js";
import type { ByteSource } from "../source/byte-source.js";
import type { ModelSource } from "../source/model-source.js";
import { verdict, type Verdict } from "./verdict.js";

/** Tensors are hashed in reads of at most this many bytes, so memory stays bounded. */
const READ_CHUNK = 64 * 1024 * 1024;
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface PublishedCheckInput {
  target: ModelSource;
  record: RunRecord;
  digests: readonly TensorDigest[];
  /** The tensors whose published bytes are read and hashed. */
  sampled: ReadonlySet<string>;
  /** Each shard's header as the re-created plan writes it (compared byte for byte), when known. */
  expectedHeaders?: ReadonlyMap<string, Uint8Array>;
}

export async function checkPublished(input: PublishedCheckInput): Promise<Verdict[]> {
  const { target, record } = input;
  const present = new Set(await target.listFiles());
  const verdicts: Verdict[] = [];
  for (const file of record.files) {
    if (!present.has(file.path)) {
      verdicts.push(verdict("file", "published", file.path, file.sha256, "missing"));
    } else if (file.path === SHARD_INDEX_FILE) {
      verdicts.push(await checkWholeFile(target, file.path, file.sha256));
    } else if (file.path.endsWith(".safetensors")) {
      verdicts.push(...(await checkShard(input, file.path, file.size)));
    }
  }
  return verdicts;
}

async function checkWholeFile(target: ModelSource, path: string, sha256: string): Promise<Verdict> {
  const bytes = await target.readFile(path);
  const actual = bytes ? createHash("sha256").update(bytes).digest("hex") : "missing";
  return verdict("file", "published", path, sha256, actual);
}

async function checkShard(input: PublishedCheckInput, path: string, size: number): Promise<Verdict[]> {
  const source = await input.target.open(path);
  try {
    if (source.size !== size) {
      return [verdict("shard", "published", path, `${size} bytes`, `${source.size} bytes`)];
    }
    const read = await readRawHeader(source).catch((error: unknown) => {
      // A header that does not parse is a finding about the file, not a failure of verify.
      if (isHubmergeError(error, "E_SAFETENSORS")) return undefined;
      throw error;
    });
    if (!read)
      return [verdict("shard", "published", `${path} (header)`, "a safetensors header", "unreadable")];
    const { raw, header } = read;
    const verdicts: Verdict[] = [];
    const expectedHeader = input.expectedHeaders?.get(path);
    if (expectedHeader) {
      verdicts.push(verdict("shard", "published", `${path} (header)`, sha256(expectedHeader), sha256(raw)));
    }
    for (const digest of input.digests) {
      if (digest.shard !== path || !input.sampled.has(digest.name)) continue;
      const info = header.byName.get(digest.name);
      const actual = info
        ? await hashRange(source, header.dataOffset + info.begin, info.end - info.begin)
        : "missing";
      verdicts.push(verdict("tensor", "published", digest.name, digest.sha256, actual, path));
    }
    return verdicts;
  } finally {
    await source.close?.();
  }
}

/** The length prefix and header JSON as published, and the header parsed (validated). */
async function readRawHeader(source: ByteSource): Promise<{ raw: Uint8Array; header: SafetensorsHeader }> {
  const prefix = await source.read(0, 8);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(Math.min(MAX_HEADER_BYTES, source.size - 8))) {
    throw new HubmergeError(
      "E_SAFETENSORS",
      `${source.name}: the header claims ${length} bytes, more than the file or the limit`,
      {
        hint: "the shard is not the one the merge wrote: suspect a tampered file",
      },
    );
  }
  const json = await source.read(8, Number(length));
  const raw = new Uint8Array(8 + json.byteLength);
  raw.set(prefix);
  raw.set(json, 8);
  return { raw, header: parseHeader(json, source.size, source.name) };
}

async function hashRange(source: ByteSource, offset: number, length: number): Promise<string> {
  const hash = createHash("sha256");
  for (let done = 0; done < length; done += READ_CHUNK) {
    hash.update(await source.read(offset + done, Math.min(READ_CHUNK, length - done)));
  }
  return hash.digest("hex");
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
