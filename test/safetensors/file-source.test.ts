import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileByteSource } from "../../src/safetensors/file-source.js";
import { expectSafetensorsError, patternBytes } from "./helpers.js";

describe("fileByteSource", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hubmerge-file-source-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads exact ranges, including empty ones", async () => {
    const path = join(dir, "data.bin");
    const bytes = patternBytes(1000, 1);
    await writeFile(path, bytes);
    const source = await fileByteSource(path);
    try {
      expect(source.name).toBe(path);
      expect(source.size).toBe(1000);
      expect(await source.read(10, 90)).toEqual(bytes.subarray(10, 100));
      expect(await source.read(0, 1000)).toEqual(bytes);
      expect((await source.read(1000, 0)).byteLength).toBe(0);
    } finally {
      await source.close?.();
    }
  });

  it("rejects ranges outside the file", async () => {
    const path = join(dir, "small.bin");
    await writeFile(path, new Uint8Array(8));
    const source = await fileByteSource(path);
    try {
      await expect(source.read(4, 5)).rejects.toThrow(RangeError);
      await expect(source.read(-1, 2)).rejects.toThrow(RangeError);
      await expect(source.read(0.5, 2)).rejects.toThrow(RangeError);
    } finally {
      await source.close?.();
    }
  });

  it("reports a file that shrank after opening as truncated", async () => {
    const path = join(dir, "shrinks.bin");
    await writeFile(path, new Uint8Array(100));
    const source = await fileByteSource(path);
    try {
      await truncate(path, 40);
      await expectSafetensorsError(source.read(20, 50), path, "truncated", "after 20");
    } finally {
      await source.close?.();
    }
  });

  it("fails to open a missing file with E_IO", async () => {
    const path = join(dir, "missing.bin");
    await expect(fileByteSource(path)).rejects.toMatchObject({
      code: "E_IO",
      message: expect.stringContaining(path),
    });
  });
});
