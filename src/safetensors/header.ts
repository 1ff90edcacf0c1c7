/**
 * The safetensors header: an 8-byte little-endian length N, N bytes of JSON, then the data.
 * Everything here is untrusted input: sizes are checked before anything is allocated, and every
 * tensor's dtype, shape and offsets are checked against the file before anyone reads data.
 */
import type { ByteSource } from "../source/byte-source.js";
import { DTYPE_SIZE, isDType } from "./dtype.js";
import type { DType } from "./dtype.js";
import { checkJsonShape } from "./json-shape.js";
import { describeValue, safetensorsError } from "./safetensors-error.js";

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer (8 + N). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Absolute file offset of the data buffer: 8 + N. */
  dataOffset: number;
  /** Sorted by begin. */
  tensors: TensorInfo[];
  byName: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

export interface HeaderLimits {
  maxHeaderBytes: number;
  maxTensors: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimits = {
  maxHeaderBytes: 100 * 1024 * 1024,
  maxTensors: 1_000_000,
};

/** Checked on the raw bytes before JSON.parse, so a hostile header cannot blow up in memory. */
const MAX_JSON_DEPTH = 16;
const MAX_TENSOR_RANK = 64;
const MAX_METADATA_ENTRIES = 65_536;

const LENGTH_PREFIX_BYTES = 8;
const METADATA_KEY = "__metadata__";

/** Reads and validates a header, checking its claimed length before reading the JSON. */
export async function readHeader(
  source: ByteSource,
  limits: Partial<HeaderLimits> = {},
): Promise<SafetensorsHeader> {
  const { maxHeaderBytes } = resolveLimits(limits);
  if (source.size < LENGTH_PREFIX_BYTES) {
    throw safetensorsError(
      `${source.name} is ${source.size} bytes, too short for a safetensors file (at least 8 bytes)`,
    );
  }
  const prefix = await source.read(0, LENGTH_PREFIX_BYTES);
  const claimed = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  checkHeaderLength(claimed, source.size, source.name, maxHeaderBytes);
  const json = await source.read(LENGTH_PREFIX_BYTES, Number(claimed));
  return parseHeader(json, source.size, source.name, limits);
}

function resolveLimits(limits: Partial<HeaderLimits>): HeaderLimits {
  return {
    maxHeaderBytes: limits.maxHeaderBytes ?? DEFAULT_HEADER_LIMITS.maxHeaderBytes,
    maxTensors: limits.maxTensors ?? DEFAULT_HEADER_LIMITS.maxTensors,
  };
}

function checkHeaderLength(claimed: bigint, fileSize: number, file: string, maxHeaderBytes: number): void {
  if (claimed > BigInt(maxHeaderBytes)) {
    throw safetensorsError(
      `${file}: the header claims ${claimed} bytes of JSON, over the limit of ${maxHeaderBytes} bytes`,
    );
  }
  if (claimed + BigInt(LENGTH_PREFIX_BYTES) > BigInt(fileSize)) {
    throw safetensorsError(
      `${file}: the header claims ${claimed} bytes of JSON but the file has only ${fileSize} bytes (truncated?)`,
    );
  }
}

/**
 * Validates the header JSON (the N bytes after the length prefix) of a file of `fileSize` bytes.
 * The data buffer must be covered exactly by the tensors: no gaps, no overlaps, nothing after.
 */
export function parseHeader(
  json: Uint8Array,
  fileSize: number,
  sourceName: string,
  limits: Partial<HeaderLimits> = {},
): SafetensorsHeader {
  const { maxHeaderBytes, maxTensors } = resolveLimits(limits);
  checkHeaderLength(BigInt(json.byteLength), fileSize, sourceName, maxHeaderBytes);
  const dataOffset = LENGTH_PREFIX_BYTES + json.byteLength;
  const dataSize = fileSize - dataOffset;
  const problem = checkJsonShape(json, {
    maxDepth: MAX_JSON_DEPTH,
    maxArrayItems: MAX_TENSOR_RANK,
    maxRootEntries: maxTensors + 1, // the tensors and __metadata__
    maxObjectEntries: MAX_METADATA_ENTRIES,
  });
  if (problem) {
    throw safetensorsError(`${sourceName}: the header is not a plausible safetensors header: ${problem}`);
  }
  const root = parseJsonObject(json, sourceName);

  const names = Object.keys(root).filter((key) => key !== METADATA_KEY);
  if (names.length > maxTensors) {
    throw safetensorsError(
      `${sourceName}: the header lists ${names.length} tensors, over the limit of ${maxTensors}`,
    );
  }
  const metadata = parseMetadata(root[METADATA_KEY], sourceName);
  const tensors = names.map((name) => parseTensorEntry(name, root[name], dataSize, sourceName));
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkContiguous(tensors, dataSize, sourceName);
  return { dataOffset, tensors, byName: new Map(tensors.map((t) => [t.name, t])), metadata };
}

function parseJsonObject(json: Uint8Array, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw safetensorsError(`${file}: the header is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : String(error);
    throw safetensorsError(`${file}: the header is not valid JSON (${reason})`);
  }
  if (!isPlainObject(value)) {
    throw safetensorsError(`${file}: the header must be a JSON object, got ${describeValue(value)}`);
  }
  return value;
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === undefined) return metadata;
  if (!isPlainObject(value)) {
    throw safetensorsError(
      `${file}: "__metadata__" must be an object of strings, got ${describeValue(value)}`,
    );
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      throw safetensorsError(
        `${file}: "__metadata__" value "${key}" must be a string, got ${describeValue(entry)}`,
      );
    }
    // defineProperty: a key such as "__proto__" stays an ordinary entry.
    Object.defineProperty(metadata, key, {
      value: entry,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return metadata;
}

function parseTensorEntry(name: string, value: unknown, dataSize: number, file: string): TensorInfo {
  const where = `${file}: tensor "${name}"`;
  if (!isPlainObject(value)) {
    throw safetensorsError(
      `${where} must be an object with dtype, shape and data_offsets, got ${describeValue(value)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isDType(dtype)) {
    throw safetensorsError(
      `${where} has unknown dtype ${describeValue(dtype)}`,
      `supported dtypes: ${Object.keys(DTYPE_SIZE).join(", ")}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw safetensorsError(
      `${where} has an invalid shape ${describeValue(shape)}: expected a list of non-negative integers`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw safetensorsError(
      `${where} has invalid data_offsets ${describeValue(offsets)}: expected [begin, end]`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end)
    throw safetensorsError(`${where} has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataSize) {
    throw safetensorsError(
      `${where} has data_offsets [${begin}, ${end}] beyond the data buffer (${dataSize} bytes; truncated file?)`,
    );
  }
  const expected = byteSize(shape as number[], dtype);
  if (expected !== end - begin) {
    throw safetensorsError(
      `${where}: shape ${describeValue(shape)} of ${dtype} needs ${expected ?? "too many"} bytes ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Bytes a tensor of this shape and dtype occupies; undefined when not a safe integer. */
export function byteSize(shape: readonly number[], dtype: DType): number | undefined {
  let bytes = DTYPE_SIZE[dtype];
  for (const dim of shape) {
    bytes *= dim;
    if (!Number.isSafeInteger(bytes)) return undefined;
  }
  return bytes;
}

/** The spec requires the tensors to tile the data buffer exactly. */
function checkContiguous(sorted: TensorInfo[], dataSize: number, file: string): void {
  let covered = 0;
  let previous: TensorInfo | undefined;
  for (const tensor of sorted) {
    if (tensor.begin < covered && previous) {
      throw safetensorsError(
        `${file}: tensors "${previous.name}" [${previous.begin}, ${previous.end}] and ` +
          `"${tensor.name}" [${tensor.begin}, ${tensor.end}] overlap`,
      );
    }
    if (tensor.begin > covered) {
      const after = previous ? `after tensor "${previous.name}"` : "at the start of the data buffer";
      throw safetensorsError(
        `${file}: gap of ${tensor.begin - covered} bytes ${after}, before tensor "${tensor.name}" ` +
          `(the data buffer must be fully covered by tensors)`,
      );
    }
    covered = tensor.end;
    previous = tensor;
  }
  if (covered !== dataSize) {
    const after = previous ? `after the last tensor "${previous.name}"` : "with no tensors listed";
    throw safetensorsError(
      `${file}: ${dataSize - covered} bytes of the data buffer ${after} belong to no tensor`,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
