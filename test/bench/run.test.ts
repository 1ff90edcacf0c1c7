import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseLinkOptions } from "../../bench/link.js";
import { parseOptions, parseSize } from "../../bench/options.js";
import { parsePartsOptions } from "../../bench/parts.js";
import { runBench } from "../../bench/run.js";

const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("npm run bench --quick", () => {
  it("measures every configuration and prints ratios, with wasm bytes equal to the reference's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hubmerge-bench-test-"));
    dirs.push(dir);
    const options = {
      ...parseOptions(["--quick", "--threads", "2", "--dir", dir]),
      inProcess: true,
      size: 4e6,
      repeats: 2,
    };
    const report = await runBench(options, () => undefined);
    expect(report.rows.map((row) => row.label)).toEqual([
      "I/O floor (read + write, no math)",
      "reference dare_ties",
      "wasm 1 thread dare_ties",
      "wasm 2 threads dare_ties",
      "reference task_arithmetic",
      "wasm 1 thread task_arithmetic",
      "wasm 2 threads task_arithmetic",
      "wasm 2 threads dare_ties, merges alone (no I/O)",
      "verify --sample 2% (dare_ties output, 4 shards)",
      "verify --full (dare_ties output, 4 shards)",
    ]);
    const [sample, full] = report.rows.slice(-2);
    // The quick model is a quarter embeddings, which a sample always takes: well under full, not 2%.
    expect(sample!.bytesRead).toBeLessThan(full!.bytesRead / 2);
    for (const method of ["dare_ties", "task_arithmetic"]) {
      const rows = report.rows.filter((row) => row.method === method && row.outputHash !== "");
      const hashes = new Set(rows.map((row) => row.outputHash));
      expect(hashes.size).toBe(1);
    }
    expect(report.text).toMatch(/× I\/O floor/);
    expect(report.text).toMatch(/fastest of 2 interleaved runs/);
    expect(report.text).toMatch(/exact top-k threshold/);
    expect(report.text).toMatch(/method kernels alone, in memory/);
    expect(report.kernels.filter((row) => row.equal === false)).toEqual([]);
    expect(report.topK.selectSeconds).toBeGreaterThan(0);
  });

  it("parses sizes and options", () => {
    expect(parseSize("1GB")).toBe(1e9);
    expect(parseSize("512 MB")).toBe(512e6);
    expect(parseSize("1.5gb")).toBe(1.5e9);
    expect(() => parseSize("big")).toThrow(/bad size/);
    const options = parseOptions(["--size", "2GB", "--threads", "3"]);
    expect(options).toMatchObject({
      size: 2e9,
      rssSize: 1e9,
      threads: 3,
      repeats: 3,
      quick: false,
      inProcess: false,
    });
    expect(parseOptions(["--quick"]).repeats).toBe(1);
    expect(parseOptions(["--repeat", "5"]).repeats).toBe(5);
  });

  it("parses the link bench's options, with the shard size of its publish rows", () => {
    expect(parseLinkOptions([])).toMatchObject({
      size: 60e6,
      connections: [1, 4, 16],
      shardBytes: 8e6,
      scale: 1,
    });
    const options = parseLinkOptions([
      "--shard-size",
      "5MB",
      "--connections",
      "16",
      "--scale",
      "0.25",
      "--keep",
    ]);
    expect(options).toMatchObject({ shardBytes: 5e6, connections: [16], scale: 0.25, keep: true });
    expect(() => parseLinkOptions(["--shard-size", "lots"])).toThrow(/bad size/);
    expect(() => parseLinkOptions(["16"])).toThrow(/unexpected argument/);
  });

  it("parses the parts bench's options", () => {
    expect(parsePartsOptions([])).toMatchObject({
      size: 20e6,
      counts: [1, 2, 4],
      shardBytes: 3e6,
      connections: 16,
      scale: 0.25,
      keep: false,
    });
    const options = parsePartsOptions(["--counts", "1,3", "--scale", "0.1", "--shard-size", "2MB", "--keep"]);
    expect(options).toMatchObject({ counts: [1, 3], scale: 0.1, shardBytes: 2e6, keep: true });
    expect(() => parsePartsOptions(["--counts", "0,2"])).toThrow(/--counts/);
    expect(() => parsePartsOptions(["--counts", "1.5"])).toThrow(/--counts/);
    expect(() => parsePartsOptions(["--scale", "0"])).toThrow(/--scale/);
    expect(() => parsePartsOptions(["parts"])).toThrow(/unexpected argument/);
  });
});
