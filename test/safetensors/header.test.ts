/** Header parsing, including the hostile inputs the issue lists: each must fail cleanly. */
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_HEADER_LIMITS, parseHeader, readHeader } from "../../src/safetensors/header.js";
import { fileByteSource } from "../../src/source/file-byte-source.js";
import { memoryByteSource } from "../../src/source/byte-source.js";
import { buildFile, countingSource, expectSafetensorsError, validHeader } from "./helpers.js";
import type { ReadLog } from "./helpers.js";

const FILE = "weights/broken.safetensors";

function read(bytes: Uint8Array, limits = {}) {
  return readHeader(memoryByteSource(FILE, bytes), limits);
}

/** A header whose tensors are replaced or extended by `tensors`. */
function withTensors(tensors: Record<string, unknown>, dataBytes = 16): Uint8Array {
  return buildFile({ ...validHeader(), ...tensors }, dataBytes);
}

describe("readHeader on valid files", () => {
  it("parses tensors, sorts them by offset and keeps the metadata", async () => {
    const header = {
      __metadata__: { format: "pt", note: "x" },
      second: { dtype: "BF16", shape: [2, 2], data_offsets: [8, 16] },
      first: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      empty: { dtype: "I8", shape: [0, 3], data_offsets: [16, 16] },
    };
    const parsed = await read(buildFile(header, 16));
    expect(parsed.tensors.map((t) => t.name)).toEqual(["first", "second", "empty"]);
    expect(parsed.byName.get("second")).toEqual({
      name: "second",
      dtype: "BF16",
      shape: [2, 2],
      begin: 8,
      end: 16,
    });
    expect(parsed.metadata).toEqual({ format: "pt", note: "x" });
    expect(parsed.dataOffset).toBe(8 + JSON.stringify(header).length);
  });

  it("accepts trailing-space padding, scalars and no metadata", async () => {
    const json = JSON.stringify({ s: { dtype: "F64", shape: [], data_offsets: [0, 8] } }) + "     ";
    const parsed = await read(buildFile(json, 8));
    expect(parsed.tensors[0]).toMatchObject({ name: "s", shape: [], begin: 0, end: 8 });
    expect(parsed.metadata).toEqual({});
  });

  it("accepts an empty file body with no tensors", async () => {
    expect((await read(buildFile({}, 0))).tensors).toEqual([]);
  });

  it("treats a tensor named __proto__ as an ordinary name", async () => {
    const json = `{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`;
    const parsed = await read(buildFile(json, 1));
    expect(parsed.byName.get("__proto__")?.dtype).toBe("U8");
  });
});

describe("hostile headers", () => {
  it("rejects a file shorter than 8 bytes", async () => {
    await expectSafetensorsError(read(new Uint8Array(5)), FILE, "too short");
  });

  it("rejects a header length larger than the file", async () => {
    const bytes = buildFile(validHeader(), 16, 5000n);
    await expectSafetensorsError(read(bytes), FILE, "5000 bytes", "truncated");
  });

  it("rejects a truncated data buffer, naming the tensor", async () => {
    const bytes = buildFile(validHeader(), 12);
    await expectSafetensorsError(read(bytes), FILE, '"b"', "beyond the data buffer", "truncated");
  });

  it("rejects 100 MiB of claimed header JSON in a small file without reading it", async () => {
    const log: ReadLog[] = [];
    const claimed = BigInt(DEFAULT_HEADER_LIMITS.maxHeaderBytes);
    const source = countingSource(memoryByteSource(FILE, buildFile("{}", 0, claimed)), log);
    await expectSafetensorsError(readHeader(source), FILE, `${claimed} bytes`);
    expect(log).toEqual([{ path: FILE, offset: 0, length: 8 }]);
  });

  it("rejects a claim over the cap before reading, whatever the file size says", async () => {
    const log: ReadLog[] = [];
    const bytes = buildFile("{}", 0, 200n * 1024n * 1024n);
    const huge = { ...memoryByteSource(FILE, bytes), size: 2 ** 40 };
    await expectSafetensorsError(readHeader(countingSource(huge, log)), FILE, "over the limit");
    expect(log).toHaveLength(1);
  });

  it("rejects a claimed length near 2^64", async () => {
    await expectSafetensorsError(read(buildFile("{}", 0, 2n ** 64n - 1n)), FILE, "over the limit");
  });

  it("honours a lower header limit", async () => {
    await expectSafetensorsError(read(withTensors({}), { maxHeaderBytes: 64 }), FILE, "limit of 64");
  });

  it("rejects invalid JSON, invalid UTF-8 and non-objects", async () => {
    await expectSafetensorsError(read(buildFile('{"a": ', 0)), FILE, "not valid JSON");
    await expectSafetensorsError(read(buildFile("[1, 2]", 0)), FILE, "must be a JSON object");
    await expectSafetensorsError(read(buildFile("null", 0)), FILE, "must be a JSON object");
    const badUtf8 = buildFile("{}  ", 0);
    badUtf8[9] = 0xff;
    await expectSafetensorsError(read(badUtf8), FILE, "UTF-8");
  });

  it("rejects an unknown dtype", async () => {
    const bytes = withTensors({ b: { dtype: "F4", shape: [16], data_offsets: [8, 16] } });
    const error = await expectSafetensorsError(read(bytes), FILE, '"b"', "unknown dtype", "F4");
    expect(error.hint).toContain("BF16");
  });

  it("rejects a shape/size mismatch", async () => {
    const bytes = withTensors({ b: { dtype: "BF16", shape: [3, 2], data_offsets: [8, 16] } });
    await expectSafetensorsError(read(bytes), FILE, '"b"', "needs 12 bytes", "span 8");
  });

  it("rejects a shape whose size overflows", async () => {
    const bytes = withTensors({ b: { dtype: "BF16", shape: [2 ** 40, 2 ** 40], data_offsets: [8, 16] } });
    await expectSafetensorsError(read(bytes), FILE, '"b"', "too many");
  });

  it("rejects malformed shapes and offsets", async () => {
    const cases: [unknown, unknown, string][] = [
      [[-1, 2], [8, 16], "invalid shape"],
      [[1.5], [8, 16], "invalid shape"],
      ["4", [8, 16], "invalid shape"],
      [[2, 2], [8], "invalid data_offsets"],
      [[2, 2], [8, "16"], "invalid data_offsets"],
      [[2, 2], [-8, 16], "invalid data_offsets"],
      [[2, 2], [2 ** 60, 2 ** 60], "invalid data_offsets"],
      [[2, 2], [16, 8], "begin after end"],
    ];
    for (const [shape, offsets, message] of cases) {
      const bytes = withTensors({ b: { dtype: "BF16", shape, data_offsets: offsets } });
      await expectSafetensorsError(read(bytes), FILE, '"b"', message);
    }
    await expectSafetensorsError(read(withTensors({ b: 7 })), FILE, '"b"', "must be an object");
  });

  it("rejects out-of-range offsets", async () => {
    const bytes = withTensors({ c: { dtype: "U8", shape: [4], data_offsets: [16, 20] } });
    await expectSafetensorsError(read(bytes), FILE, '"c"', "[16, 20] beyond the data buffer (16 bytes");
  });

  it("rejects overlapping tensors, naming both", async () => {
    const bytes = withTensors({ b: { dtype: "BF16", shape: [2, 2], data_offsets: [4, 12] } }, 12);
    await expectSafetensorsError(read(bytes), FILE, '"a"', '"b"', "overlap");
  });

  it("rejects an empty tensor placed inside another one", async () => {
    const bytes = withTensors({ z: { dtype: "F32", shape: [0], data_offsets: [4, 4] } });
    await expectSafetensorsError(read(bytes), FILE, '"a"', '"z"', "overlap");
  });

  it("rejects gaps at the start, between tensors and at the end", async () => {
    const atStart = buildFile({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8);
    await expectSafetensorsError(read(atStart), FILE, "gap of 4 bytes at the start", '"a"');
    const between = withTensors({ b: { dtype: "BF16", shape: [2, 2], data_offsets: [10, 18] } }, 18);
    await expectSafetensorsError(read(between), FILE, 'gap of 2 bytes after tensor "a"', '"b"');
    const atEnd = withTensors({}, 20);
    await expectSafetensorsError(
      read(atEnd),
      FILE,
      "4 bytes",
      'after the last tensor "b"',
      "belong to no tensor",
    );
    await expectSafetensorsError(read(buildFile({}, 3)), FILE, "no tensors listed");
  });

  it("rejects metadata that is not an object of strings", async () => {
    const withNumber = buildFile({ ...validHeader(), __metadata__: { format: "pt", step: 5 } }, 16);
    await expectSafetensorsError(read(withNumber), FILE, '"step"', "must be a string", "5");
    const nested = buildFile({ ...validHeader(), __metadata__: { a: { b: "c" } } }, 16);
    await expectSafetensorsError(read(nested), FILE, '"a"', "must be a string");
    const notObject = buildFile({ ...validHeader(), __metadata__: ["pt"] }, 16);
    await expectSafetensorsError(read(notObject), FILE, "__metadata__", "must be an object");
    const isNull = buildFile({ ...validHeader(), __metadata__: null }, 16);
    await expectSafetensorsError(read(isNull), FILE, "__metadata__", "must be an object");
  });

  it("rejects deeply nested JSON and absurd ranks before parsing", async () => {
    const deep = `{"a":{"dtype":"F32","shape":${"[".repeat(100_000)}${"]".repeat(100_000)},"data_offsets":[0,0]}}`;
    await expectSafetensorsError(read(buildFile(deep, 0)), FILE, "nested more than 16 levels");
    const rank = `{"a":{"dtype":"F32","shape":[${Array(1000).fill(1).join(",")}],"data_offsets":[0,4]}}`;
    await expectSafetensorsError(read(buildFile(rank, 4)), FILE, "more than 64 items");
    const ok = `{"a":{"dtype":"F32","shape":[${Array(64).fill(1).join(",")}],"data_offsets":[0,4]}}`;
    expect((await read(buildFile(ok, 4))).tensors[0]!.shape).toHaveLength(64);
  });

  it("rejects more tensors than the limit", async () => {
    const { __metadata__: _, ...tensorsOnly } = validHeader();
    const twoTensors = buildFile(tensorsOnly, 16);
    await expectSafetensorsError(read(twoTensors, { maxTensors: 1 }), FILE, "2 tensors", "limit of 1");
    // With __metadata__ the raw pre-scan already sees 3 top-level entries.
    await expectSafetensorsError(read(withTensors({}), { maxTensors: 1 }), FILE, "more than 2 entries");
  });

  it("parseHeader checks the JSON length against the file size and the cap", () => {
    const json = new TextEncoder().encode("{}");
    expect(() => parseHeader(json, 4, FILE)).toThrow(/only 4 bytes/);
    expect(() => parseHeader(json, 10, FILE, { maxHeaderBytes: 1 })).toThrow(/limit of 1 bytes/);
    expect(parseHeader(json, 10, FILE).dataOffset).toBe(10);
  });
});

describe("hostile files on disk", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hubmerge-header-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("rejects a real (sparse) file whose header is just over the cap, reading only 8 bytes", async () => {
    const path = join(dir, "huge-header.safetensors");
    const claimed = DEFAULT_HEADER_LIMITS.maxHeaderBytes + 1;
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(claimed), true);
    await writeFile(path, prefix);
    await truncate(path, 8 + claimed + 16); // sparse: no disk blocks, no memory
    const log: ReadLog[] = [];
    const source = await fileByteSource(path);
    try {
      expect(source.size).toBe(8 + claimed + 16);
      await expectSafetensorsError(readHeader(countingSource(source, log)), path, "over the limit");
      expect(log).toEqual([{ path, offset: 0, length: 8 }]);
    } finally {
      await source.close?.();
    }
  });

  it("rejects a file cut short inside the header", async () => {
    const path = join(dir, "cut.safetensors");
    await writeFile(path, buildFile(validHeader(), 16).subarray(0, 40));
    const source = await fileByteSource(path);
    try {
      await expectSafetensorsError(readHeader(source), path, "truncated");
    } finally {
      await source.close?.();
    }
  });
});
