import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planShards, type PlannedTensor } from "../../src/safetensors/shard-plan.js";
import { ShardedWriter, type WrittenShard } from "../../src/safetensors/writer.js";
import { patternBytes } from "./helpers.js";

const TENSORS: PlannedTensor[] = [
  { name: "a", dtype: "F32", shape: [16] },
  { name: "b", dtype: "F32", shape: [16] },
  { name: "c", dtype: "F32", shape: [16] },
  { name: "d", dtype: "F32", shape: [16] },
];
const PLAN = planShards(TENSORS, 64); // four shards of one tensor each
const bytesOf = (i: number) => patternBytes(16, 4, i + 1);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-writer-parts-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writeAll(options: {
  only?: Set<number>;
  onShardClosed?: ConstructorParameters<typeof ShardedWriter>[0]["onShardClosed"];
}) {
  const writer = new ShardedWriter({ dir, plan: PLAN, ...options });
  for (const [i, tensor] of TENSORS.entries()) {
    if (options.only && !options.only.has(i)) continue;
    await writer.writeTensor(tensor.name, bytesOf(i));
  }
  return writer.finish();
}

describe("ShardedWriter for parts and overlapped uploads", () => {
  it("writes only the selected shards, under their names in the whole plan, and no index", async () => {
    const { files, shards } = await writeAll({ only: new Set([1, 2]) });
    expect(files).toEqual(["model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors"]);
    expect((await readdir(dir)).sort()).toEqual(files);
    expect(shards.map((s) => s.file)).toEqual(files);
  });

  it("gives a selected shard the bytes it has in a full write", async () => {
    const part = await writeAll({ only: new Set([2]) });
    const partBytes = await readFile(join(dir, part.files[0]!));
    await rm(dir, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), "hubmerge-writer-parts-"));
    const full = await writeAll({});
    expect(partBytes.equals(await readFile(join(dir, part.files[0]!)))).toBe(true);
    expect(full.shards[2]).toEqual(part.shards[0]);
  });

  it("hands over each shard as it closes, readable and hashed, before the next is written", async () => {
    const seen: { shard: WrittenShard; sha: string; filesThen: string[] }[] = [];
    await writeAll({
      onShardClosed: async (shard, path) => {
        const sha = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
        seen.push({ shard, sha, filesThen: await readdir(dir) });
      },
    });
    expect(seen.map((s) => s.shard.file)).toEqual(PLAN.files.map((f) => f.file));
    for (const [i, s] of seen.entries()) {
      expect(s.sha).toBe(s.shard.sha256);
      // Shard i is closed while shard i+1 is not begun yet (only partial files exist, one per closed shard).
      expect(s.filesThen.filter((f) => f.endsWith(".partial"))).toHaveLength(i + 1);
    }
  });
});
