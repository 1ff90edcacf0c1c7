import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import { fileByteSource } from "../../src/source/file-byte-source.js";
import { SafetensorsFile, SafetensorsModel } from "../../src/safetensors/reader.js";
import { encodeShardHeader } from "../../src/safetensors/shard-header.js";
import { planShards, shardFileName, type PlannedTensor } from "../../src/safetensors/shard-plan.js";
import { ShardedWriter, type WrittenShard } from "../../src/safetensors/writer.js";
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

  /**
   * The sizes and SHA-256s finish() reports (hashed while writing) are those of the files, and
   * each tensor's SHA-256 is that of its bytes in the file, in file order.
   */
  async function expectDigests(shards: WrittenShard[], names: string[]): Promise<void> {
    expect(shards.map((s) => s.file)).toEqual(names);
    for (const shard of shards) {
      const bytes = await readFile(join(dir, shard.file));
      expect(shard.size).toBe(bytes.byteLength);
      expect(shard.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      const file = await SafetensorsFile.open(await fileByteSource(join(dir, shard.file)));
      try {
        const expected = [];
        for (const t of file.header.tensors) {
          const data = await file.readTensorBytes(t.name);
          expected.push({ name: t.name, sha256: createHash("sha256").update(data).digest("hex") });
        }
        expect(shard.tensors).toEqual(expected);
      } finally {
        await file.close();
      }
    }
  }

  it("writes one model.safetensors that reads back byte for byte", async () => {
    const writer = new ShardedWriter({ dir, plan: planShards(TENSORS), metadata: { merged_by: "hubmerge" } });
    await writeAll(writer, TENSORS);
    expect(await readdir(dir)).toEqual([".model.safetensors.partial"]); // nothing visible before finish
    const { files, shards } = await writer.finish();
    expect(files).toEqual(["model.safetensors"]);
    await expectDigests(shards, ["model.safetensors"]);
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
    const { files, shards } = await writer.finish();
    expect(files).toEqual([...plan.files.map((f) => f.file), "model.safetensors.index.json"]);
    await expectDigests(
      shards,
      plan.files.map((f) => f.file),
    );
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
    await expectDigests((await writer.finish()).shards, ["model.safetensors"]);
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

  /** Uneven cut points inside a tensor of `size` bytes: three parts, or two when `i` is odd. */
  function cutsOf(size: number, i: number): number[] {
    return i % 2 === 0 ? [1, Math.floor(size * 0.7)] : [Math.floor(size / 3)];
  }

  async function writeAllInParts(writer: ShardedWriter, tensors: PlannedTensor[]): Promise<void> {
    for (const [i, tensor] of tensors.entries()) {
      const bytes = bytesOf(tensor, i);
      const cuts = [0, ...cutsOf(bytes.byteLength, i), bytes.byteLength];
      for (let k = 0; k + 1 < cuts.length; k++) {
        await writer.writeTensorPart(tensor.name, cuts[k]!, bytes.subarray(cuts[k], cuts[k + 1]));
      }
    }
  }

  /** Every file in a folder, by name, with its bytes. */
  async function folderBytes(folder: string): Promise<Record<string, Uint8Array>> {
    const names = (await readdir(folder)).sort();
    const entries = await Promise.all(
      names.map(async (name) => [name, new Uint8Array(await readFile(join(folder, name)))] as const),
    );
    return Object.fromEntries(entries);
  }

  for (const [label, cap] of [
    ["one file", undefined],
    ["shards", 96],
  ] as const) {
    it(`writes tensors sent in uneven parts byte for byte as if sent whole (${label})`, async () => {
      const whole = join(dir, "whole");
      const parts = join(dir, "parts");
      await mkdir(whole);
      await mkdir(parts);
      const wholeWriter = new ShardedWriter({ dir: whole, plan: planShards(TENSORS, cap) });
      await writeAll(wholeWriter, TENSORS);
      const written = await wholeWriter.finish();
      const partWriter = new ShardedWriter({ dir: parts, plan: planShards(TENSORS, cap) });
      await writeAllInParts(partWriter, TENSORS);
      // Per-tensor digests too: a tensor sent in parts is hashed incrementally to the same sha256.
      expect(written.shards.flatMap((shard) => shard.tensors.map((t) => t.name))).toEqual(
        TENSORS.map((t) => t.name),
      );
      expect(await partWriter.finish()).toEqual(written);

      const expected = await folderBytes(whole);
      expect(Object.keys(expected)).toEqual([...written.files].sort());
      expect(Object.keys(expected)).toHaveLength(cap === undefined ? 1 : 4);
      expect(await folderBytes(parts)).toEqual(expected);
    });
  }

  it("completes a tensor when its planned size arrives, then expects the next in plan order", async () => {
    const plan = planShards(TENSORS.slice(0, 2), 64); // one tensor per shard
    const writer = new ShardedWriter({ dir, plan });
    const first = bytesOf(TENSORS[0]!, 0);
    const second = bytesOf(TENSORS[1]!, 1);
    await writer.writeTensorPart(TENSORS[0]!.name, 0, first.subarray(0, 10));
    await writer.writeTensorPart(TENSORS[0]!.name, 10, new Uint8Array(0)); // an empty part is fine
    await writer.writeTensorPart(TENSORS[0]!.name, 10, first.subarray(10));
    await expectInternal(
      writer.writeTensorPart(TENSORS[0]!.name, 64, new Uint8Array(0)),
      `expected "${TENSORS[1]!.name}" next, got "${TENSORS[0]!.name}"`,
    );
    await writer.writeTensor(TENSORS[1]!.name, second); // whole and parted tensors mix
    await writer.finish();
    const model = await SafetensorsModel.open(folderModel(dir));
    try {
      expect(model.info(TENSORS[0]!.name).file).toBe("model-00001-of-00002.safetensors");
      expect(await model.readTensorBytes(TENSORS[0]!.name)).toEqual(first);
      expect(await model.readTensorBytes(TENSORS[1]!.name)).toEqual(second);
    } finally {
      await model.close();
    }
  });

  it("completes a zero-byte tensor with one empty part", async () => {
    const empty: PlannedTensor = { name: "empty", dtype: "F32", shape: [0, 3] };
    const tensors = [TENSORS[1]!, empty, TENSORS[4]!];
    const writer = new ShardedWriter({ dir, plan: planShards(tensors) });
    await writer.writeTensorPart(tensors[0]!.name, 0, bytesOf(tensors[0]!, 0));
    await writer.writeTensorPart("empty", 0, new Uint8Array(0));
    await writer.writeTensorPart(tensors[2]!.name, 0, bytesOf(tensors[2]!, 2).subarray(0, 5));
    await writer.writeTensorPart(tensors[2]!.name, 5, bytesOf(tensors[2]!, 2).subarray(5));
    await writer.finish();
    const file = await SafetensorsFile.open(await fileByteSource(join(dir, "model.safetensors")));
    try {
      expect(file.header.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
      expect(await file.readTensorBytes("empty")).toEqual(new Uint8Array(0));
      expect(await file.readTensorBytes(tensors[2]!.name)).toEqual(bytesOf(tensors[2]!, 2));
    } finally {
      await file.close();
    }
  });

  it("rejects parts at the wrong offset, and the writer stays usable", async () => {
    const [a, b] = [TENSORS[0]!, TENSORS[1]!];
    const writer = new ShardedWriter({ dir, plan: planShards([a, b]) });
    const bytes = bytesOf(a, 0);
    await expectInternal(
      writer.writeTensorPart(a.name, 5, bytes.subarray(5, 10)),
      `parts of tensor "${a.name}" must come in order: expected bytes from 0, got 5`,
    );
    await writer.writeTensorPart(a.name, 0, bytes.subarray(0, 10));
    await expectInternal(
      writer.writeTensorPart(a.name, 12, bytes.subarray(12, 20)),
      "expected bytes from 10, got 12",
    );
    await expectInternal(
      writer.writeTensorPart(a.name, 0, bytes.subarray(0, 10)),
      "expected bytes from 10, got 0",
    );
    await expectInternal(
      writer.writeTensorPart(a.name, 9, bytes.subarray(9, 20)),
      "expected bytes from 10, got 9",
    );
    await expectInternal(
      writer.writeTensorPart(a.name, -1, bytes.subarray(0, 1)),
      "expected bytes from 10, got -1",
    );
    await writer.writeTensorPart(a.name, 10, bytes.subarray(10));
    await writer.writeTensor(b.name, bytesOf(b, 1));
    await writer.finish();

    const reference = join(dir, "reference");
    await mkdir(reference);
    const whole = new ShardedWriter({ dir: reference, plan: planShards([a, b]) });
    await writeAll(whole, [a, b]);
    await whole.finish();
    expect(await readFile(join(dir, "model.safetensors"))).toEqual(
      await readFile(join(reference, "model.safetensors")),
    );
  });

  it("rejects a part that overflows the planned size", async () => {
    const [a, b] = [TENSORS[0]!, TENSORS[1]!];
    const writer = new ShardedWriter({ dir, plan: planShards([a, b]) });
    await expectInternal(
      writer.writeTensorPart(a.name, 0, new Uint8Array(65)),
      `tensor "${a.name}" would get 65 bytes but the plan says 64`,
    );
    await writer.writeTensorPart(a.name, 0, bytesOf(a, 0).subarray(0, 60));
    await expectInternal(
      writer.writeTensorPart(a.name, 60, new Uint8Array(5)),
      "would get 65 bytes but the plan says 64",
    );
    await writer.writeTensorPart(a.name, 60, bytesOf(a, 0).subarray(60));
    await writer.writeTensorPart(b.name, 0, bytesOf(b, 1));
    await writer.finish();
    const file = await SafetensorsFile.open(await fileByteSource(join(dir, "model.safetensors")));
    try {
      expect(await file.readTensorBytes(a.name)).toEqual(bytesOf(a, 0));
      expect(await file.readTensorBytes(b.name)).toEqual(bytesOf(b, 1));
    } finally {
      await file.close();
    }
  });

  it("rejects parts of tensors out of plan order, or unplanned", async () => {
    const [a, b] = [TENSORS[0]!, TENSORS[1]!];
    const writer = new ShardedWriter({ dir, plan: planShards([a, b]) });
    await expectInternal(
      writer.writeTensorPart(b.name, 0, bytesOf(b, 1)),
      `tensors must be written in plan order: expected "${a.name}" next, got "${b.name}"`,
    );
    await writer.writeTensorPart(a.name, 0, bytesOf(a, 0).subarray(0, 32));
    // The next tensor may not start while the current one is incomplete.
    await expectInternal(writer.writeTensorPart(b.name, 0, bytesOf(b, 1)), `expected "${a.name}" next`);
    await expectInternal(writer.writeTensor(b.name, bytesOf(b, 1)), `expected "${a.name}" next`);
    await writer.writeTensorPart(a.name, 32, bytesOf(a, 0).subarray(32));
    await writer.writeTensorPart(b.name, 0, bytesOf(b, 1));
    await expectInternal(
      writer.writeTensorPart("extra", 0, new Uint8Array(1)),
      `tensor "extra" is not in the shard plan, or was already written`,
    );
    await expectInternal(writer.writeTensorPart(b.name, 32, new Uint8Array(0)), "not in the shard plan");
    await writer.finish();
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  it("rejects writeTensor in the middle of a tensor begun in parts", async () => {
    const [a, b] = [TENSORS[0]!, TENSORS[1]!];
    const writer = new ShardedWriter({ dir, plan: planShards([a, b]) });
    const bytes = bytesOf(a, 0);
    await writer.writeTensorPart(a.name, 0, bytes.subarray(0, 10));
    await expectInternal(
      writer.writeTensor(a.name, bytes),
      `tensor "${a.name}" was begun in parts: write the rest from byte 10 with writeTensorPart`,
    );
    await writer.writeTensorPart(a.name, 10, bytes.subarray(10));
    await writer.writeTensor(b.name, bytesOf(b, 1));
    await writer.finish();
    const file = await SafetensorsFile.open(await fileByteSource(join(dir, "model.safetensors")));
    try {
      expect(file.source.size).toBe(encodeShardHeader([a, b], { format: "pt" }).byteLength + 96);
      expect(await file.readTensorBytes(a.name)).toEqual(bytes);
      expect(await file.readTensorBytes(b.name)).toEqual(bytesOf(b, 1));
    } finally {
      await file.close();
    }
  });

  it("rejects finish() before the last part has arrived", async () => {
    const plan = planShards(TENSORS, 96);
    const writer = new ShardedWriter({ dir, plan });
    await writeAll(writer, TENSORS.slice(0, 4));
    const last = TENSORS[4]!;
    const bytes = bytesOf(last, 4);
    await writer.writeTensorPart(last.name, 0, bytes.subarray(0, 7));
    await expectInternal(
      writer.finish(),
      `finish() called before every tensor was written: "${last.name}" is next`,
    );
    expect((await readdir(dir)).every((name) => name.endsWith(".partial"))).toBe(true);
    await writer.writeTensorPart(last.name, 7, bytes.subarray(7));
    const { files } = await writer.finish();
    expect((await readdir(dir)).sort()).toEqual([...files].sort());
    const model = await SafetensorsModel.open(folderModel(dir));
    try {
      expect(await model.readTensorBytes(last.name)).toEqual(bytes);
    } finally {
      await model.close();
    }
  });

  it("rejects parts after finish or abort, and overlapping part writes", async () => {
    const [a, b] = [TENSORS[0]!, TENSORS[1]!];
    const writer = new ShardedWriter({ dir, plan: planShards([a, b]) });
    const pending = writer.writeTensorPart(a.name, 0, bytesOf(a, 0).subarray(0, 16));
    await expectInternal(
      writer.writeTensorPart(a.name, 16, bytesOf(a, 0).subarray(16)),
      "writeTensorPart() called before the previous call finished",
    );
    await pending;
    await writer.abort();
    await expectInternal(writer.writeTensorPart(a.name, 16, bytesOf(a, 0).subarray(16)), "aborted");
    expect(await readdir(dir)).toEqual([]);

    const done = new ShardedWriter({ dir, plan: planShards([a]) });
    await done.writeTensorPart(a.name, 0, bytesOf(a, 0));
    await done.finish();
    await expectInternal(
      done.writeTensorPart(a.name, 0, new Uint8Array(0)),
      "writeTensorPart() called on a writer that is finished",
    );
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
