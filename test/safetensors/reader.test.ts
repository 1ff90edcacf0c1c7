import { describe, expect, it } from "vitest";
import { encodeFromF32 } from "../../src/safetensors/dtype.js";
import { SafetensorsFile, SafetensorsModel } from "../../src/safetensors/reader.js";
import { MAX_SHARD_INDEX_BYTES } from "../../src/safetensors/shard-index.js";
import { memoryByteSource } from "../../src/source/byte-source.js";
import type { ModelSource } from "../../src/source/model-source.js";
import { buildFile, expectSafetensorsError, makeFile, memoryModel, patternBytes } from "./helpers.js";
import type { TensorSpec } from "./helpers.js";

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
