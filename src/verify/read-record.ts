/**
 * Reading a published run record for verification. hubmerge.json (and hubmerge.tensors.json) come
 * from a repo anyone may have edited, so both are size-limited and checked field by field before
 * use; the digest file must match the sha256 the record gives for it.
 */
import { createHash } from "node:crypto";
import { HubmergeError } from "../errors.js";
import { RUN_RECORD_FILE, TENSOR_DIGESTS_FILE, type RunRecord, type TensorDigest } from "../run-record.js";
import type { ModelSource } from "../source/model-source.js";

/** hubmerge.json stays small (digests beyond INLINE_TENSOR_DIGESTS go to their own file). */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** A million tensors at ~130 bytes each. */
const MAX_DIGESTS_BYTES = 160 * 1024 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;

/** The record and its tensor digests, validated, from a published repo or output folder. */
export async function readRecordFrom(
  target: ModelSource,
): Promise<{ record: RunRecord; digests: TensorDigest[] }> {
  const bytes = await readLimited(target, RUN_RECORD_FILE, MAX_RECORD_BYTES);
  const record = parseRecord(bytes, target.ref);
  if (record.tensorsFile) {
    const file = record.tensorsFile;
    const digestBytes = await readLimited(target, TENSOR_DIGESTS_FILE, MAX_DIGESTS_BYTES);
    const actual = createHash("sha256").update(digestBytes).digest("hex");
    if (actual !== file.sha256) {
      throw recordError(
        `${TENSOR_DIGESTS_FILE} has sha256 ${actual}, but ${RUN_RECORD_FILE} says ${file.sha256}`,
        target.ref,
        "the digest file was changed after the merge: suspect a tampered file",
      );
    }
    return {
      record,
      digests: parseDigests(parseJson(digestBytes, TENSOR_DIGESTS_FILE, target.ref), target.ref),
    };
  }
  return { record, digests: record.tensors ?? [] };
}

async function readLimited(target: ModelSource, path: string, limit: number): Promise<Uint8Array> {
  const source = await target.open(path).catch((error: unknown) => {
    throw recordError(
      `${target.ref} has no ${path}`,
      target.ref,
      "verify a folder or repo a hubmerge merge wrote",
      error,
    );
  });
  if (source.size > limit) {
    throw recordError(`${path} is ${source.size} bytes, over the limit of ${limit}`, target.ref);
  }
  try {
    return await source.read(0, source.size);
  } finally {
    await source.close?.();
  }
}

function parseRecord(bytes: Uint8Array, where: string): RunRecord {
  const value = parseJson(bytes, RUN_RECORD_FILE, where) as Partial<Record<keyof RunRecord, unknown>>;
  const fail = (field: string) =>
    recordError(`${RUN_RECORD_FILE}: "${field}" is missing or malformed`, where);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const str = (v: unknown) => typeof v === "string";
  const tool = value.tool;
  if (!isObject(tool) || !str(tool["name"]) || !str(tool["version"])) throw fail("tool");
  const manifest = value.manifest;
  if (!isObject(manifest) || !str(manifest["file"]) || !HEX64.test(String(manifest["sha256"])))
    throw fail("manifest");
  if (!str(value.manifestText)) {
    throw recordError(
      `${RUN_RECORD_FILE} has no manifest text`,
      where,
      "records written before hubmerge kept the manifest cannot be verified; merge again with this version",
    );
  }
  if (!str(value.method) || !str(value.seed) || !str(value.dareRescale) || !str(value.dtype))
    throw fail("method");
  const sources = value.sources;
  if (
    !Array.isArray(sources) ||
    !sources.every((s) => isObject(s) && str(s["ref"]) && (s["revision"] === null || str(s["revision"])))
  ) {
    throw fail("sources");
  }
  const files = value.files;
  if (
    !Array.isArray(files) ||
    !files.every(
      (f) =>
        isObject(f) && str(f["path"]) && Number.isSafeInteger(f["size"]) && HEX64.test(String(f["sha256"])),
    )
  ) {
    throw fail("files");
  }
  const tensorsFile = value.tensorsFile;
  if (
    tensorsFile !== undefined &&
    (!isObject(tensorsFile) ||
      tensorsFile["path"] !== TENSOR_DIGESTS_FILE ||
      !HEX64.test(String(tensorsFile["sha256"])))
  ) {
    throw fail("tensorsFile");
  }
  if (tensorsFile === undefined) {
    if (value.tensors === undefined) {
      throw recordError(
        `${RUN_RECORD_FILE} has no tensor digests`,
        where,
        "records written before per-tensor digests cannot be verified; merge again with this version",
      );
    }
    value.tensors = parseDigests(value.tensors, where);
  }
  return value as RunRecord;
}

function parseDigests(value: unknown, where: string): TensorDigest[] {
  const ok =
    Array.isArray(value) &&
    value.every(
      (d: unknown) =>
        typeof d === "object" &&
        d !== null &&
        typeof (d as TensorDigest).name === "string" &&
        typeof (d as TensorDigest).shard === "string" &&
        HEX64.test(String((d as TensorDigest).sha256)),
    );
  if (!ok) throw recordError("the tensor digests are malformed", where);
  return value as TensorDigest[];
}

function parseJson(bytes: Uint8Array, file: string, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw recordError(`${file} is not JSON: ${(error as Error).message}`, where, undefined, error);
  }
}

function recordError(message: string, model: string, hint?: string, cause?: unknown): HubmergeError {
  return new HubmergeError("E_VERIFY", message, {
    where: { model },
    hint: hint ?? "the record was not written by hubmerge, or was changed: suspect a tampered file",
    cause,
  });
}
