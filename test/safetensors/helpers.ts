/** Builders for hand-made (and deliberately broken) safetensors files, and an in-memory model. */
import { readFile, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { expect } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import { memoryByteSource } from "../../src/source/byte-source.js";
import type { ByteSource } from "../../src/source/byte-source.js";
import type { ModelSource } from "../../src/source/model-source.js";
import type { DType } from "../../src/safetensors/dtype.js";
import { fileByteSource } from "../../src/source/file-byte-source.js";
import { encodeShardHeader } from "../../src/safetensors/shard-header.js";

export interface RawTensor {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

/** A file from a header (an object, or raw JSON text) and data; `claimedLength` lies about N. */
export function buildFile(
  header: Record<string, unknown> | string,
  data: Uint8Array | number = 0,
  claimedLength?: bigint,
): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const file = new Uint8Array(8 + json.byteLength + body.byteLength);
  new DataView(file.buffer).setBigUint64(0, claimedLength ?? BigInt(json.byteLength), true);
  file.set(json, 8);
  file.set(body, 8 + json.byteLength);
  return file;
}

/** A valid two-tensor header over 16 bytes of data: "a" F32[2] then "b" BF16[2,2]. */
export function validHeader(): Record<string, RawTensor | Record<string, string>> {
  return {
    __metadata__: { format: "pt" },
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "BF16", shape: [2, 2], data_offsets: [8, 16] },
  };
}

/** Asserts an E_SAFETENSORS HubmergeError whose message contains every fragment. */
export async function expectSafetensorsError(
  action: Promise<unknown> | (() => unknown),
  ...fragments: string[]
): Promise<HubmergeError> {
  let caught: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HubmergeError);
  const error = caught as HubmergeError;
  expect(error.code).toBe("E_SAFETENSORS");
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  expect(error.hint).toBeTruthy();
  return error;
}

export interface ReadLog {
  path: string;
  offset: number;
  length: number;
}

/** A ByteSource that records every read. */
export function countingSource(source: ByteSource, log: ReadLog[]): ByteSource {
  return {
    name: source.name,
    size: source.size,
    read(offset, length) {
      log.push({ path: source.name, offset, length });
      return source.read(offset, length);
    },
    close: source.close?.bind(source),
  };
}

/** An in-memory ModelSource over `files`, recording every ranged read and open/close. */
export function memoryModel(ref: string, files: Record<string, Uint8Array>) {
  const reads: ReadLog[] = [];
  const opened: string[] = [];
  const closed: string[] = [];
  const model: ModelSource = {
    ref,
    revision: undefined,
    async listFiles() {
      return Object.keys(files).sort();
    },
    async readFile(path) {
      return files[path] ?? null;
    },
    async open(path) {
      const bytes = files[path];
      if (!bytes) throw new Error(`no file ${path}`);
      opened.push(path);
      const source = countingSource(memoryByteSource(path, bytes), reads);
      return { ...source, read: source.read, close: async () => void closed.push(path) };
    },
  };
  return { model, reads, opened, closed };
}

/** Little-endian bytes of a tensor of `count` elements of `size` bytes, each byte distinct. */
export function patternBytes(count: number, size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(count * size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
}

/** A valid safetensors file (via the writer's header encoder) holding `tensors` in order. */
export function makeFile(
  tensors: TensorSpec[],
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const header = encodeShardHeader(tensors, metadata);
  const size = tensors.reduce((sum, t) => sum + t.bytes.byteLength, header.byteLength);
  const file = new Uint8Array(size);
  file.set(header);
  let offset = header.byteLength;
  for (const tensor of tensors) {
    file.set(tensor.bytes, offset);
    offset += tensor.bytes.byteLength;
  }
  return file;
}

/** A folder as a ModelSource (every file, recursively), for reading the writer's output back. */
export function folderModel(dir: string): ModelSource {
  return {
    ref: dir,
    revision: undefined,
    async listFiles() {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"))
        .sort();
    },
    async readFile(path) {
      return new Uint8Array(await readFile(join(dir, path)));
    },
    open: (path) => fileByteSource(join(dir, path)),
  };
}
