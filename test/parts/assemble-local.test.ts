import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assembleParts,
  pinsOf,
  planRun,
  closeModels,
  runMerge,
  runPart,
  type Pins,
} from "../../src/pipeline/index.js";
import { splitShards } from "../../src/parts/split.js";
import { writeFamily, writeManifest } from "../support/models.js";
/** Small enough that the test model comes out in several shards. */
const SHARD = 6000;
let root: string;
let manifestPath: string;
let single: string;
let pins: Pins;

const MANIFEST = `merge_method: dare_ties
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.5, density: 0.4}
  - model: ./ft2
    parameters: {weight: 0.5, density: 0.4}
dtype: bfloat16
hubmerge:
  seed: 11
`;

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as const)));
}

async function runParts(dir: string, count: number, seed?: bigint): Promise<void> {
  for (let index = 1; index <= count; index++) {
    await runPart({
      manifestPath,
      out: join(dir, `part-${index}`),
      part: { index, count },
      pins,
      maxShardBytes: SHARD,
      seed,
    });
  }
}

beforeAll(async () => {
  // One folder for the whole file: the refusal tests reuse the parts the byte tests wrote.
  root = await mkdtemp(join(tmpdir(), "hubmerge-parts-"));
  await writeFamily(root);
  manifestPath = await writeManifest(root, MANIFEST);
  single = join(root, "single");
  await runMerge({ manifestPath, out: single, maxShardBytes: SHARD });
  const planned = await planRun({ manifestPath, maxShardBytes: SHARD });
  await closeModels(planned.models);
  pins = pinsOf(planned);
  expect(planned.plan.shards.files.length).toBeGreaterThanOrEqual(5);
}, 120_000);

afterAll(() => rm(root, { recursive: true, force: true }));

describe("splitShards", () => {
  it("cuts contiguous, non-empty runs of about equal bytes, the same every time", () => {
    expect(splitShards([10, 10, 10, 10], 2)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(splitShards([100, 1, 1, 1], 2)).toEqual([[0], [1, 2, 3]]);
    expect(splitShards([1, 1, 1], 3)).toEqual([[0], [1], [2]]);
    expect(splitShards([5, 5, 5, 5, 5, 5, 5], 3)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
    ]);
    expect(() => splitShards([1, 1], 3)).toThrow(/too few for 3 parts/);
  });
});

describe("merge --part and a local assembly", () => {
  it.each([1, 2, 3, 5])(
    "gives the bytes of a one-process merge with %i part(s)",
    async (count) => {
      const parts = join(root, `parts-${count}`);
      await runParts(parts, count);
      const out = join(root, `assembled-${count}`);
      await assembleParts({ manifestPath, partsDir: parts, out });
      const expected = await filesOf(single);
      const actual = await filesOf(out);
      expect([...actual.keys()]).toEqual([...expected.keys()]);
      for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
    },
    120_000,
  );

  it("writes a receipt naming the part's shards with their sizes and hashes", async () => {
    const dir = join(root, "parts-2", "part-1");
    const receipt = JSON.parse(await readFile(join(dir, "hubmerge-part-00001-of-00002.json"), "utf8"));
    const record = JSON.parse(await readFile(join(single, "hubmerge.json"), "utf8"));
    expect(receipt).toMatchObject({ format: "hubmerge-part/1", seed: "11", part: { index: 1, count: 2 } });
    for (const shard of receipt.shards) {
      expect(record.files).toContainEqual({ path: shard.file, size: shard.size, sha256: shard.sha256 });
    }
  });
});

describe("re-running a part", () => {
  it("returns at once when its receipt and shards are there, and merges again when the seed changed", async () => {
    const dir = join(root, "rerun");
    const part = { index: 1, count: 2 };
    const first = await runPart({ manifestPath, out: dir, part, pins, maxShardBytes: SHARD });
    const shard = join(dir, first.receipt.shards[0]!.file);
    const { mtimeMs } = await stat(shard);
    const again = await runPart({ manifestPath, out: dir, part, pins, maxShardBytes: SHARD });
    expect(again.receipt).toEqual(first.receipt);
    expect((await stat(shard)).mtimeMs).toBe(mtimeMs);
    // Another seed is another part: merged again, and its folder replaced without --force.
    const other = await runPart({ manifestPath, out: dir, part, pins, maxShardBytes: SHARD, seed: 12n });
    expect(other.receipt.seed).toBe("12");
    expect(other.receipt.shards[0]!.sha256).not.toBe(first.receipt.shards[0]!.sha256);
  }, 60_000);
});

describe("the assembly refuses", () => {
  async function partsWith(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
    const dir = join(root, `refuse-${name}`);
    await cp(join(root, "parts-3"), dir, { recursive: true });
    await edit(dir);
    return dir;
  }
  const receiptOf = (dir: string, i: number) =>
    join(dir, `part-${i}`, `hubmerge-part-0000${i}-of-00003.json`);

  it("a part with another seed", async () => {
    const dir = await partsWith("seed", async (d) => {
      await rm(join(d, "part-2"), { recursive: true });
      await runPart({
        manifestPath,
        out: join(d, "part-2"),
        part: { index: 2, count: 3 },
        pins,
        maxShardBytes: SHARD,
        seed: 99n,
      });
    });
    await expect(assembleParts({ manifestPath, partsDir: dir, out: join(root, "x-seed") })).rejects.toThrow(
      /disagree on the seed/,
    );
  }, 60_000);

  it("parts of another manifest", async () => {
    const other = await writeManifest(root, MANIFEST.replace("seed: 11", "seed: 11 # edited"), "other.yaml");
    await expect(
      assembleParts({ manifestPath: other, partsDir: join(root, "parts-3"), out: join(root, "x-manifest") }),
    ).rejects.toThrow(/part of another manifest/);
  });

  it("a part that read other revisions", async () => {
    const dir = await partsWith("revisions", async (d) => {
      const path = receiptOf(d, 3);
      const receipt = JSON.parse(await readFile(path, "utf8"));
      receipt.sources[1].revision = "0".repeat(40);
      await writeFile(path, JSON.stringify(receipt));
    });
    await expect(assembleParts({ manifestPath, partsDir: dir, out: join(root, "x-rev") })).rejects.toThrow(
      /disagree on the source revisions/,
    );
  });

  it("a missing part", async () => {
    const dir = await partsWith("missing", (d) => rm(join(d, "part-2"), { recursive: true }));
    await expect(
      assembleParts({ manifestPath, partsDir: dir, out: join(root, "x-missing") }),
    ).rejects.toThrow(/part\(s\) 2\/3 are missing/);
  });

  it("the same part twice", async () => {
    const dir = await partsWith("twice", async (d) => {
      await mkdir(join(d, "again"));
      await cp(receiptOf(d, 1), join(d, "again", "hubmerge-part-00001-of-00003.json"));
    });
    await expect(assembleParts({ manifestPath, partsDir: dir, out: join(root, "x-twice") })).rejects.toThrow(
      /part 1\/3 appears twice/,
    );
  });

  it("a shard that differs from its receipt, and writes nothing", async () => {
    const dir = await partsWith("altered", async (d) => {
      const receipt = JSON.parse(await readFile(receiptOf(d, 1), "utf8"));
      const shard = join(d, "part-1", receipt.shards[0].file);
      const bytes = await readFile(shard);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
      await writeFile(shard, bytes);
    });
    const out = join(root, "x-altered");
    await expect(assembleParts({ manifestPath, partsDir: dir, out })).rejects.toThrow(
      /not the shard its receipt names/,
    );
    await expect(readdir(out)).rejects.toThrow();
  });

  it("a part run without pins of this manifest", async () => {
    const stale: Pins = { ...pins, manifest: { ...pins.manifest, sha256: "f".repeat(64) } };
    await expect(
      runPart({
        manifestPath,
        out: join(root, "x-pins"),
        part: { index: 1, count: 2 },
        pins: stale,
        maxShardBytes: SHARD,
      }),
    ).rejects.toThrow(/pins were written for another version/);
  });
});
