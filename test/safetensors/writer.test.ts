import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import { fileByteSource } from "../../src/safetensors/file-source.js";
import { SafetensorsFile, SafetensorsModel } from "../../src/safetensors/reader.js";
import { ShardedWriter, encodeShardHeader, planShards, shardFileName } from "../../src/safetensors/writer.js";
import type { PlannedTensor } from "../../src/safetensors/writer.js";
import { folderModel, patternBytes } from "./helpers.js";

/** Tensors of 64, 32, 100 (own shard at cap 96), 16 and 8 bytes. */
const TENSORS: PlannedTensor[] = [
  { name: "model.layers.0.mlp.weight", dtype: "BF16", shape: [4, 8] },
  { name: "model.layers.0.norm.weight", dtype: "F32", shape: [8] },
  { name: "model.embed_tokens.weight", dtype: "F16", shape: [50] },
  { name: "__proto__", dtype: "F32", shape: [2, 2] },
  { name: "lm_head.weight", dtype: "U8", shape: [8] },
];

function bytesOf(tensor: PlannedTensor, seed: number): Uint8Array {
  const size = { BF16: 2, F16: 2, F32: 4, U8: 1 }[tensor.dtype as "BF16"];
  return patternBytes(
    tensor.shape.reduce((a, b) => a * b, 1),
    size,
    seed,
  );
}

async function expectInternal(action: Promise<unknown>, fragment: string): Promise<void> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubmergeError);
  expect((error as HubmergeError).code).toBe("E_INTERNAL");
  expect((error as HubmergeError).message).toContain(fragment);
}

describe("planShards", () => {
  it("keeps one file named model.safetensors when everything fits", () => {
    const plan = planShards(TENSORS);
    expect(plan.files).toHaveLength(1);
    expect(plan.files[0]!.file).toBe("model.safetensors");
    expect(plan.files[0]!.tensors).toEqual(TENSORS);
    expect(plan.totalSize).toBe(64 + 32 + 100 + 16 + 8);
  });

  it("splits in order at the cap, giving an oversized tensor its own shard", () => {
    const plan = planShards(TENSORS, 96);
    expect(plan.files.map((f) => f.tensors.map((t) => t.name))).toEqual([
      ["model.layers.0.mlp.weight", "model.layers.0.norm.weight"],
      ["model.embed_tokens.weight"],
      ["__proto__", "lm_head.weight"],
    ]);
    expect(plan.files.map((f) => f.size)).toEqual([96, 100, 24]);
    expect(plan.files.map((f) => f.file)).toEqual([
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
    ]);
    expect(plan.totalSize).toBe(220);
  });

  it("names shards with five 1-based digits", () => {
    expect(shardFileName(0, 1)).toBe("model.safetensors");
    expect(shardFileName(11, 120)).toBe("model-00012-of-00120.safetensors");
  });

  it("plans an empty model as one empty file", () => {
    expect(planShards([])).toEqual({
      files: [{ file: "model.safetensors", tensors: [], size: 0 }],
      totalSize: 0,
    });
  });

  it("rejects bad caps, duplicate names and invalid shapes", () => {
    expect(() => planShards(TENSORS, 0)).toThrow(/positive integer/);
    expect(() => planShards([TENSORS[0]!, TENSORS[0]!])).toThrow(/appears twice/);
    expect(() => planShards([{ name: "x", dtype: "F32", shape: [-1] }])).toThrow(/invalid shape/);
    expect(() => planShards([{ name: "__metadata__", dtype: "F32", shape: [1] }])).toThrow(
      /cannot be a tensor/,
    );
  });
});

describe("encodeShardHeader", () => {
  it("puts __metadata__ first and pads with spaces to a multiple of 8", () => {
    const header = encodeShardHeader(TENSORS.slice(0, 2), { format: "pt" });
    const length = Number(new DataView(header.buffer).getBigUint64(0, true));
    expect(header.byteLength).toBe(8 + length);
    expect(header.byteLength % 8).toBe(0);
    const text = new TextDecoder().decode(header.subarray(8));
    expect(text).toMatch(/^\{"__metadata__":\{"format":"pt"\},"model\.layers\.0\.mlp\.weight":/);
    expect(text.trimEnd()).toMatch(/"data_offsets":\[64,96\]\}\}$/);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
  });
});

describe("ShardedWriter", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hubmerge-writer-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeAll(writer: ShardedWriter, tensors: PlannedTensor[]): Promise<void> {
    for (const [i, tensor] of tensors.entries()) await writer.writeTensor(tensor.name, bytesOf(tensor, i));
  }

  it("writes one model.safetensors that reads back byte for byte", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards(TENSORS), metadata: { merged_by: "hubmerge" } });
    await writeAll(writer, TENSORS);
    expect(await readdir(dir)).toEqual([".model.safetensors.partial"]); // nothing visible before finish
    expect(await writer.finish()).toEqual({ files: ["model.safetensors"] });
    expect(await readdir(dir)).toEqual(["model.safetensors"]);

    const source = await fileByteSource(join(dir, "model.safetensors"));
    const file = await SafetensorsFile.open(source);
    try {
      expect(file.header.metadata).toEqual({ format: "pt", merged_by: "hubmerge" });
      expect(file.header.dataOffset % 8).toBe(0);
      expect(file.header.tensors.map((t) => t.name)).toEqual(TENSORS.map((t) => t.name));
      for (const [i, tensor] of TENSORS.entries()) {
        expect(await file.readTensorBytes(tensor.name)).toEqual(bytesOf(tensor, i));
      }
    } finally {
      await file.close();
    }
  });

  it("writes shards and a transformers-style index", async () => {
    const plan = planShards(TENSORS, 96);
    const writer = new ShardedWriter({ dir, plan });
    await writeAll(writer, TENSORS);
    const { files } = await writer.finish();
    expect(files).toEqual([...plan.files.map((f) => f.file), "model.safetensors.index.json"]);
    expect((await readdir(dir)).sort()).toEqual([...files].sort());

    const index = await readFile(join(dir, "model.safetensors.index.json"), "utf8");
    const shard = (n: number) => `model-0000${n}-of-00003.safetensors`;
    const expected = [
      "{",
      '  "metadata": {',
      '    "total_size": 220',
      "  },",
      '  "weight_map": {',
      `    "__proto__": "${shard(3)}",`,
      `    "lm_head.weight": "${shard(3)}",`,
      `    "model.embed_tokens.weight": "${shard(2)}",`,
      `    "model.layers.0.mlp.weight": "${shard(1)}",`,
      `    "model.layers.0.norm.weight": "${shard(1)}"`,
      "  }",
      "}",
      "",
    ];
    expect(index).toBe(expected.join("\n"));

    const model = await SafetensorsModel.open(folderModel(dir));
    try {
      expect(model.tensorNames()).toEqual(TENSORS.map((t) => t.name));
      for (const [i, tensor] of TENSORS.entries()) {
        expect(await model.readTensorBytes(tensor.name)).toEqual(bytesOf(tensor, i));
      }
    } finally {
      await model.close();
    }
  });

  it("writes an empty plan as a header-only file", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards([]) });
    await writer.finish();
    const source = await fileByteSource(join(dir, "model.safetensors"));
    const file = await SafetensorsFile.open(source);
    expect(file.header.tensors).toEqual([]);
    expect(source.size % 8).toBe(0);
    await file.close();
  });

  it("leaves no files behind when aborted mid-way", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards(TENSORS, 96) });
    await writeAll(writer, TENSORS.slice(0, 3));
    expect((await readdir(dir)).length).toBeGreaterThan(0);
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
    await expectInternal(writer.writeTensor(TENSORS[3]!.name, bytesOf(TENSORS[3]!, 3)), "aborted");
  });

  it("rejects tensors out of plan order, of the wrong size, or unplanned", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards(TENSORS.slice(0, 2)) });
    await expectInternal(writer.writeTensor(TENSORS[1]!.name, bytesOf(TENSORS[1]!, 1)), "plan order");
    await expectInternal(
      writer.writeTensor(TENSORS[0]!.name, new Uint8Array(3)),
      "has 3 bytes but the plan says 64",
    );
    await expectInternal(writer.finish(), `"${TENSORS[0]!.name}" is next`);
    await writeAll(writer, TENSORS.slice(0, 2));
    await expectInternal(writer.writeTensor("extra", new Uint8Array(1)), "not in the shard plan");
    await writer.finish();
    await expectInternal(writer.finish(), "finished");
    await writer.abort(); // a finished output stays
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  it("refuses overlapping calls", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards(TENSORS.slice(0, 2)) });
    const first = writer.writeTensor(TENSORS[0]!.name, bytesOf(TENSORS[0]!, 0));
    await expectInternal(writer.writeTensor(TENSORS[1]!.name, bytesOf(TENSORS[1]!, 1)), "await each call");
    await first;
    await writer.abort();
  });

  it("fails cleanly when the directory is missing, and abort still works", async () => {
    const missing = join(dir, "nope");
    const writer = new ShardedWriter({ dir: missing, plan: planShards(TENSORS.slice(0, 1)) });
    await expect(writer.writeTensor(TENSORS[0]!.name, bytesOf(TENSORS[0]!, 0))).rejects.toMatchObject({
      code: "E_IO",
      message: expect.stringContaining("ENOENT"),
    });
    await expectInternal(writer.finish(), "failed");
    await writer.abort();
    await expect(stat(missing)).rejects.toThrow(/ENOENT/);
  });
});
