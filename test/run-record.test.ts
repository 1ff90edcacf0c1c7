import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildRunRecord,
  recordedFiles,
  RUN_RECORD_FILE,
  TENSOR_DIGESTS_FILE,
  writeRunRecord,
  type RunRecordInput,
} from "../src/run-record.js";
import { SHARD_INDEX_FILE } from "../src/safetensors/shard-index.js";
import type { WrittenShard } from "../src/safetensors/writer.js";
import { TOOL } from "../src/version.js";
import { useTempDirs } from "./support/tmp.js";

const tempDir = useTempDirs();

const shard = (
  file: string,
  size: number,
  tensors = [{ name: `${file}.t`, sha256: "ef".repeat(32) }],
): WrittenShard => ({
  file,
  size,
  sha256: "ab".repeat(32),
  tensors,
});

function input(dir: string, shards: WrittenShard[]): RunRecordInput {
  return {
    dir,
    manifest: { file: "merge.yaml", sha256: "cd".repeat(32) },
    method: "ties",
    seed: 12345678901234567890n,
    dareRescale: "paper",
    sources: [{ ref: "./base", revision: null }],
    dtype: "bfloat16",
    shards,
    warnings: ["w"],
    manifestText: "merge_method: ties\n",
  };
}

describe("the run record", () => {
  it("keeps its fields in the order hubmerge.json has always had, the seed as a decimal string", async () => {
    const dir = await tempDir();
    const record = await buildRunRecord(input(dir, [shard("model.safetensors", 10)]));
    expect(Object.keys(record)).toEqual([
      "tool",
      "manifest",
      "method",
      "seed",
      "dareRescale",
      "sources",
      "dtype",
      "files",
      "warnings",
      "manifestText",
      "tensors",
    ]);
    expect(record.tool).toEqual(TOOL);
    expect(record.seed).toBe("12345678901234567890");
    expect(record.files).toEqual([{ path: "model.safetensors", size: 10, sha256: "ab".repeat(32) }]);
    await writeRunRecord(dir, record);
    expect(await readFile(join(dir, RUN_RECORD_FILE), "utf8")).toBe(JSON.stringify(record, null, 2) + "\n");
  });

  it("keeps each tensor's digest and shard inline, or above the limit in hubmerge.tensors.json named by sha256", async () => {
    const dir = await tempDir();
    const shards = [
      shard("model-00001-of-00002.safetensors", 1, [{ name: "a", sha256: "01".repeat(32) }]),
      shard("model-00002-of-00002.safetensors", 2, [
        { name: "b", sha256: "02".repeat(32) },
        { name: "c", sha256: "03".repeat(32) },
      ]),
    ];
    await writeFile(join(dir, SHARD_INDEX_FILE), "{}");
    const digests = [
      { name: "a", shard: shards[0]!.file, sha256: "01".repeat(32) },
      { name: "b", shard: shards[1]!.file, sha256: "02".repeat(32) },
      { name: "c", shard: shards[1]!.file, sha256: "03".repeat(32) },
    ];
    const inline = await buildRunRecord({ ...input(dir, shards), inlineTensorLimit: 3 });
    expect(inline.tensors).toEqual(digests);
    expect(inline.tensorsFile).toBeUndefined();
    const separate = await buildRunRecord({ ...input(dir, shards), inlineTensorLimit: 2 });
    expect(separate.tensors).toBeUndefined();
    const bytes = await readFile(join(dir, TENSOR_DIGESTS_FILE));
    expect(JSON.parse(bytes.toString())).toEqual(digests);
    expect(separate.tensorsFile).toEqual({
      path: TENSOR_DIGESTS_FILE,
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      count: 3,
    });
    // The publisher deletes an old digest file with the rest of an earlier output.
    expect(recordedFiles(new TextEncoder().encode(JSON.stringify(separate)))).toContain(TENSOR_DIGESTS_FILE);
  });

  it("lists and hashes the shard index when there are several shards", async () => {
    const dir = await tempDir();
    const index = '{"metadata":{},"weight_map":{}}';
    await writeFile(join(dir, SHARD_INDEX_FILE), index);
    const shards = [
      shard("model-00001-of-00002.safetensors", 1),
      shard("model-00002-of-00002.safetensors", 2),
    ];
    const record = await buildRunRecord(input(dir, shards));
    expect(record.files.map((f) => f.path)).toEqual([...shards.map((s) => s.file), SHARD_INDEX_FILE]);
    expect(record.files[2]).toEqual({
      path: SHARD_INDEX_FILE,
      size: index.length,
      sha256: createHash("sha256").update(index).digest("hex"),
    });
  });

  it("reads back the file list of a previous record, and nothing from a malformed one", () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(
      recordedFiles(encode(JSON.stringify({ files: [{ path: "a" }, { path: 3 }, "b", { path: "c" }] }))),
    ).toEqual(["a", "c"]);
    expect(recordedFiles(null)).toEqual([]);
    expect(recordedFiles(encode("{not json"))).toEqual([]);
    expect(recordedFiles(encode('{"files": "model.safetensors"}'))).toEqual([]);
  });
});
