import { describe, expect, it } from "vitest";
import { encodeFromF32 } from "../../src/safetensors/dtype.js";
import { SafetensorsFile, SafetensorsModel } from "../../src/safetensors/reader.js";
import { MAX_SHARD_INDEX_BYTES } from "../../src/safetensors/shard-index.js";
import { memoryByteSource } from "../../src/source/byte-source.js";
import type { ByteSource } from "../../src/source/byte-source.js";
import type { ModelSource } from "../../src/source/model-source.js";
import { buildFile, expectSafetensorsError, makeFile, memoryModel, patternBytes } from "./helpers.js";
import type { ReadLog, TensorSpec } from "./helpers.js";

const embed: TensorSpec = {
  name: "model.embed_tokens.weight",
  dtype: "BF16",
  shape: [2, 3],
  bytes: encodeFromF32(new Float32Array([1, -2, 0.5, 3, 0, -0.25]), "BF16"),
};
const norm: TensorSpec = {
  name: "model.norm.weight",
  dtype: "F32",
  shape: [3],
  bytes: patternBytes(3, 4, 2),
};
const head: TensorSpec = {
  name: "lm_head.weight",
  dtype: "F16",
  shape: [3, 1],
  bytes: patternBytes(3, 2, 3),
};
const steps: TensorSpec = { name: "steps", dtype: "I32", shape: [1], bytes: patternBytes(1, 4, 4) };
const big: TensorSpec = {
  name: "model.big.weight",
  dtype: "F32",
  shape: [4, 4],
  bytes: patternBytes(16, 4, 5),
};

/** A view of `length` bytes at byte 16 of a SharedArrayBuffer filled with 0xee. */
function sharedView(length: number): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(length + 32), 16, length);
  new Uint8Array(view.buffer).fill(0xee);
  return view;
}

/** The bytes of a shared view's buffer outside the view, which a read must leave alone. */
function outsideView(view: Uint8Array): number[] {
  const whole = new Uint8Array(view.buffer);
  return [...whole.subarray(0, view.byteOffset), ...whole.subarray(view.byteOffset + view.byteLength)];
}

/** A memory source with readInto whose readInto calls are logged. */
function loggedIntoSource(name: string, bytes: Uint8Array, log: ReadLog[]): ByteSource {
  const inner = memoryByteSource(name, bytes);
  return {
    ...inner,
    readInto(offset, target) {
      log.push({ path: name, offset, length: target.byteLength });
      return inner.readInto!(offset, target);
    },
  };
}

function indexJson(weightMap: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 1 }, weight_map: weightMap }));
}

function shardedFiles(): Record<string, Uint8Array> {
  return {
    "config.json": new TextEncoder().encode("{}"),
    "model-00001-of-00002.safetensors": makeFile([embed, norm]),
    "model-00002-of-00002.safetensors": makeFile([head]),
    "model.safetensors.index.json": indexJson({
      [head.name]: "model-00002-of-00002.safetensors",
      [embed.name]: "model-00001-of-00002.safetensors",
      [norm.name]: "model-00001-of-00002.safetensors",
    }),
  };
}

describe("SafetensorsFile", () => {
  it("reads each tensor's exact bytes", async () => {
    const file = await SafetensorsFile.open(
      memoryByteSource("one.safetensors", makeFile([embed, norm, steps])),
    );
    expect(file.header.tensors.map((t) => t.name)).toEqual([embed.name, norm.name, steps.name]);
    expect(file.header.dataOffset % 8).toBe(0);
    for (const spec of [embed, norm, steps])
      expect(await file.readTensorBytes(spec.name)).toEqual(spec.bytes);
    expect(file.tensor(norm.name)).toMatchObject({ dtype: "F32", shape: [3] });
  });

  it("names the file and tensor when a tensor is missing", async () => {
    const file = await SafetensorsFile.open(memoryByteSource("one.safetensors", makeFile([norm])));
    await expectSafetensorsError(() => file.tensor("nope"), "one.safetensors", '"nope"');
  });
});

describe("SafetensorsFile.readTensorInto", () => {
  const fileBytes = makeFile([embed, big, norm]);

  it("reads a whole tensor by default, equal to readTensorBytes", async () => {
    const file = await SafetensorsFile.open(memoryByteSource("one.safetensors", fileBytes));
    for (const spec of [embed, big, norm]) {
      const target = new Uint8Array(spec.bytes.byteLength);
      await file.readTensorInto(spec.name, target);
      expect(target).toEqual(spec.bytes);
      expect(target).toEqual(await file.readTensorBytes(spec.name));
    }
  });

  it("reads a span from byteOffset with one readInto at the tensor's data offset", async () => {
    const log: ReadLog[] = [];
    const file = await SafetensorsFile.open(loggedIntoSource("one.safetensors", fileBytes, log));
    const begin = file.header.dataOffset + file.tensor(big.name).begin;
    log.length = 0;
    const middle = new Uint8Array(20);
    await file.readTensorInto(big.name, middle, 10);
    expect(middle).toEqual(big.bytes.subarray(10, 30));
    const last = new Uint8Array(1);
    await file.readTensorInto(big.name, last, 63);
    expect(last).toEqual(big.bytes.subarray(63));
    await file.readTensorInto(big.name, new Uint8Array(0), 64); // empty, at the very end
    expect(log).toEqual([
      { path: "one.safetensors", offset: begin + 10, length: 20 },
      { path: "one.safetensors", offset: begin + 63, length: 1 },
      { path: "one.safetensors", offset: begin + 64, length: 0 },
    ]);
  });

  it("reads into a SharedArrayBuffer view without touching the rest of the buffer", async () => {
    const file = await SafetensorsFile.open(memoryByteSource("one.safetensors", fileBytes));
    const target = sharedView(24);
    await file.readTensorInto(big.name, target, 40);
    expect(new Uint8Array(target)).toEqual(big.bytes.subarray(40, 64));
    expect(outsideView(target)).toEqual(new Array(32).fill(0xee));
  });

  it("rejects a span outside the tensor, naming file and tensor, before reading", async () => {
    const log: ReadLog[] = [];
    const file = await SafetensorsFile.open(loggedIntoSource("one.safetensors", fileBytes, log));
    log.length = 0;
    const target = new Uint8Array(8).fill(3);
    await expectSafetensorsError(
      file.readTensorInto(big.name, target, 60),
      "one.safetensors",
      `"${big.name}"`,
      "bytes 60+8 lie outside",
      "(64 bytes)",
    );
    await expectSafetensorsError(
      file.readTensorInto(big.name, new Uint8Array(65)),
      `"${big.name}"`,
      "bytes 0+65 lie outside",
    );
    await expectSafetensorsError(
      file.readTensorInto(norm.name, target, -1),
      `"${norm.name}"`,
      "bytes -1+8 lie outside",
      "(12 bytes)",
    );
    // A span that fits the file but not the tensor: big is followed by norm's data.
    await expectSafetensorsError(file.readTensorInto(big.name, target, 64), `"${big.name}"`, "bytes 64+8");
    await expectSafetensorsError(file.readTensorInto("nope", target), "one.safetensors", '"nope"');
    expect(target).toEqual(new Uint8Array(8).fill(3));
    expect(log).toEqual([]);
  });

  it("falls back to read() and a copy for a source without readInto", async () => {
    const log: ReadLog[] = [];
    const inner = memoryByteSource("plain.safetensors", fileBytes);
    const wrapped: ByteSource = {
      name: inner.name,
      size: inner.size,
      read: (offset, length) => {
        log.push({ path: inner.name, offset, length });
        return inner.read(offset, length);
      },
    };
    const file = await SafetensorsFile.open(wrapped);
    expect(file.source.readInto).toBeUndefined();
    const begin = file.header.dataOffset + file.tensor(big.name).begin;
    log.length = 0;
    const target = sharedView(16);
    await file.readTensorInto(big.name, target, 8);
    expect(new Uint8Array(target)).toEqual(big.bytes.subarray(8, 24));
    expect(outsideView(target)).toEqual(new Array(32).fill(0xee));
    const whole = new Uint8Array(norm.bytes.byteLength);
    await file.readTensorInto(norm.name, whole);
    expect(whole).toEqual(norm.bytes);
    expect(log).toEqual([
      { path: "plain.safetensors", offset: begin + 8, length: 16 },
      {
        path: "plain.safetensors",
        offset: file.header.dataOffset + file.tensor(norm.name).begin,
        length: 12,
      },
    ]);
    await expectSafetensorsError(file.readTensorInto(norm.name, new Uint8Array(4), 10), `"${norm.name}"`);
    expect(log).toHaveLength(2);
  });
});

describe("SafetensorsModel", () => {
  it("opens model.safetensors, reading only the header", async () => {
    const bytes = makeFile([embed, norm, head]);
    const { model, reads } = memoryModel("org/single", {
      "model.safetensors": bytes,
      "other.safetensors": bytes,
    });
    const opened = await SafetensorsModel.open(model);
    expect(opened.files).toEqual(["model.safetensors"]);
    expect(opened.tensorNames()).toEqual([embed.name, norm.name, head.name]);
    const dataOffset = Number(new DataView(bytes.buffer).getBigUint64(0, true)) + 8;
    expect(reads.every((r) => r.offset + r.length <= dataOffset)).toBe(true);
    expect(opened.info(head.name)).toMatchObject({ file: "model.safetensors", dtype: "F16", shape: [3, 1] });
    expect(await opened.readTensorF32(embed.name)).toEqual(new Float32Array([1, -2, 0.5, 3, 0, -0.25]));
    expect(await opened.readTensorBytes(head.name)).toEqual(head.bytes);
  });

  it("opens a sharded model through its index, in file then offset order", async () => {
    const { model, reads, opened, closed } = memoryModel("org/sharded", shardedFiles());
    const sharded = await SafetensorsModel.open(model);
    expect(sharded.files).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    expect(sharded.tensorNames()).toEqual([embed.name, norm.name, head.name]);
    expect(sharded.has(norm.name)).toBe(true);
    expect(sharded.has("nope")).toBe(false);
    expect(sharded.info(head.name).file).toBe("model-00002-of-00002.safetensors");
    const shardReads = reads.filter((r) => r.path.endsWith(".safetensors"));
    expect(shardReads.every((r) => r.offset === 0 || r.offset === 8)).toBe(true);
    expect(await sharded.readTensorBytes(norm.name)).toEqual(norm.bytes);
    await sharded.close();
    expect(closed.sort()).toEqual(opened.sort()); // every source opened (index too) is closed
  });

  it("falls back to every *.safetensors at the root, sorted", async () => {
    const { model } = memoryModel("org/loose", {
      "b.safetensors": makeFile([head]),
      "a.safetensors": makeFile([embed]),
      "sub/c.safetensors": makeFile([norm]),
    });
    const loose = await SafetensorsModel.open(model);
    expect(loose.files).toEqual(["a.safetensors", "b.safetensors"]);
    expect(loose.tensorNames()).toEqual([embed.name, head.name]);
  });

  it("explains how to convert a model without safetensors", async () => {
    const { model } = memoryModel("org/pickled", { "pytorch_model.bin": new Uint8Array(4) });
    const error = await expectSafetensorsError(SafetensorsModel.open(model), "org/pickled", "no safetensors");
    expect(error.hint).toContain("save_pretrained(safe_serialization=True)");
  });

  it("rejects a tensor present in two loose files", async () => {
    const { model } = memoryModel("org/dup", {
      "a.safetensors": makeFile([embed]),
      "b.safetensors": makeFile([embed]),
    });
    await expectSafetensorsError(SafetensorsModel.open(model), embed.name, "a.safetensors", "b.safetensors");
  });

  it("names model, file and tensor when a missing or non-float tensor is read", async () => {
    const { model } = memoryModel("org/ints", { "model.safetensors": makeFile([steps]) });
    const opened = await SafetensorsModel.open(model);
    await expectSafetensorsError(
      opened.readTensorF32("steps"),
      "org/ints",
      "model.safetensors",
      '"steps"',
      "I32",
    );
    await expectSafetensorsError(() => opened.info("missing"), "org/ints", '"missing"');
  });

  it("closes the shards it opened when one shard is broken", async () => {
    const files = shardedFiles();
    files["model-00002-of-00002.safetensors"] = buildFile("not json", 0);
    const { model, opened, closed } = memoryModel("org/broken", files);
    await expectSafetensorsError(
      SafetensorsModel.open(model),
      "model-00002-of-00002.safetensors",
      "not valid JSON",
    );
    expect(closed.sort()).toEqual(opened.sort()); // every source opened (index too) is closed
  });
});

describe("SafetensorsModel.readTensorInto", () => {
  const first = "model-00001-of-00002.safetensors";
  const second = "model-00002-of-00002.safetensors";

  it("reads each tensor from its own shard", async () => {
    const { model, reads } = memoryModel("org/sharded", shardedFiles());
    const sharded = await SafetensorsModel.open(model);
    try {
      for (const [spec, shard] of [
        [head, second],
        [norm, first],
        [embed, first],
      ] as const) {
        reads.length = 0;
        const target = new Uint8Array(spec.bytes.byteLength);
        await sharded.readTensorInto(spec.name, target);
        expect(target).toEqual(spec.bytes);
        expect(target).toEqual(await sharded.readTensorBytes(spec.name));
        expect(reads.map((r) => r.path)).toEqual([shard, shard]);
      }
    } finally {
      await sharded.close();
    }
  });

  it("reads a span from byteOffset into a shared view, in the right shard", async () => {
    const { model, reads } = memoryModel("org/sharded", shardedFiles());
    const sharded = await SafetensorsModel.open(model);
    try {
      reads.length = 0;
      const target = sharedView(4);
      await sharded.readTensorInto(head.name, target, 2);
      expect(new Uint8Array(target)).toEqual(head.bytes.subarray(2, 6));
      expect(outsideView(target)).toEqual(new Array(32).fill(0xee));
      expect(reads).toHaveLength(1);
      expect(reads[0]!.path).toBe(second);
      const middle = new Uint8Array(5);
      await sharded.readTensorInto(norm.name, middle, 3);
      expect(middle).toEqual(norm.bytes.subarray(3, 8));
      expect(reads[1]!.path).toBe(first);
    } finally {
      await sharded.close();
    }
  });

  it("rejects a span outside the tensor, or an unknown tensor, naming it", async () => {
    const { model, reads } = memoryModel("org/sharded", shardedFiles());
    const sharded = await SafetensorsModel.open(model);
    try {
      reads.length = 0;
      await expectSafetensorsError(
        sharded.readTensorInto(head.name, new Uint8Array(4), 3),
        second,
        `"${head.name}"`,
        "bytes 3+4 lie outside",
        "(6 bytes)",
      );
      await expectSafetensorsError(
        sharded.readTensorInto(embed.name, new Uint8Array(1), -1),
        first,
        `"${embed.name}"`,
        "bytes -1+1",
      );
      await expectSafetensorsError(
        sharded.readTensorInto("nope", new Uint8Array(1)),
        "org/sharded",
        '"nope"',
      );
      expect(reads).toEqual([]);
    } finally {
      await sharded.close();
    }
  });
});

describe("SafetensorsModel with a hostile or inconsistent index", () => {
  async function expectIndexError(weightMap: Record<string, unknown> | string, ...fragments: string[]) {
    const files = shardedFiles();
    files["model.safetensors.index.json"] =
      typeof weightMap === "string" ? new TextEncoder().encode(weightMap) : indexJson(weightMap);
    const { model } = memoryModel("org/idx", files);
    return expectSafetensorsError(SafetensorsModel.open(model), "org/idx", ...fragments);
  }
  const first = "model-00001-of-00002.safetensors";
  const second = "model-00002-of-00002.safetensors";

  it("rejects malformed JSON and a missing weight_map", async () => {
    await expectIndexError("{", "not valid UTF-8 JSON");
    await expectIndexError('{"metadata": {}}', "weight_map");
    await expectIndexError('{"weight_map": []}', "weight_map");
    await expectIndexError(`{"weight_map": ${"[".repeat(10_000)}`, "nested more than 16 levels");
  });

  it("rejects shard paths that leave the model or are not strings", async () => {
    for (const bad of ["../escape.safetensors", "/etc/passwd", "a/../../b", "a\\b", "", "./x", 3]) {
      await expectIndexError({ [embed.name]: bad }, `"${embed.name}"`, "not a relative file path");
    }
  });

  it("rejects an index naming a shard the model lacks", async () => {
    const map = { [embed.name]: first, [norm.name]: first, [head.name]: "model-00003-of-00003.safetensors" };
    await expectIndexError(map, "model-00003-of-00003.safetensors", "does not have");
  });

  it("rejects a tensor the index maps to a shard that lacks it", async () => {
    const map = { [embed.name]: first, [norm.name]: first, [head.name]: second, extra: second };
    await expectIndexError(map, '"extra"', second, "does not contain it");
  });

  it("rejects a shard tensor the index does not list, or lists elsewhere", async () => {
    await expectIndexError(
      { [embed.name]: first, [head.name]: second },
      first,
      `"${norm.name}"`,
      "does not list it",
    );
    await expectIndexError(
      { [embed.name]: first, [norm.name]: second, [head.name]: second },
      `maps it to ${second}`,
    );
  });

  it("refuses an index over 50 MiB before reading it", async () => {
    const { model: inner, reads } = memoryModel("org/big", shardedFiles());
    const model: ModelSource = {
      ...inner,
      async open(path) {
        const source = await inner.open(path);
        return path.endsWith(".json") ? { ...source, size: MAX_SHARD_INDEX_BYTES + 1 } : source;
      },
    };
    await expectSafetensorsError(SafetensorsModel.open(model), "org/big", "over the limit");
    expect(reads.filter((r) => r.path.endsWith(".json"))).toEqual([]);
  });
});
