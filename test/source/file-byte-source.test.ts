import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileByteSource } from "../../src/source/file-byte-source.js";
import { checkRange, memoryByteSource, readInto } from "../../src/source/byte-source.js";
import type { ByteSource } from "../../src/source/byte-source.js";
import { expectSafetensorsError, patternBytes } from "../safetensors/helpers.js";

/** A view of `length` bytes at byte 16 of a SharedArrayBuffer, the rest of which is 0xee. */
function sharedView(length: number): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(length + 48), 16, length);
  new Uint8Array(view.buffer).fill(0xee);
  return view;
}

/** Asserts that only the view was written: the shared buffer's bytes around it are still 0xee. */
function expectGuardBytes(view: Uint8Array): void {
  const whole = new Uint8Array(view.buffer);
  expect([...whole.subarray(0, view.byteOffset)].every((b) => b === 0xee)).toBe(true);
  expect([...whole.subarray(view.byteOffset + view.byteLength)].every((b) => b === 0xee)).toBe(true);
}

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

  it("reads straight into a target, including a SharedArrayBuffer view at a nonzero byteOffset", async () => {
    const path = join(dir, "into.bin");
    const bytes = patternBytes(1000, 1);
    await writeFile(path, bytes);
    const source = await fileByteSource(path);
    try {
      expect(source.readInto).toBeTypeOf("function");
      const whole = new Uint8Array(1000);
      await source.readInto!(0, whole);
      expect(whole).toEqual(bytes);

      const shared = sharedView(100);
      await source.readInto!(10, shared);
      expect(new Uint8Array(shared)).toEqual(bytes.subarray(10, 110));
      expectGuardBytes(shared);

      const tail = sharedView(7);
      await source.readInto!(993, tail);
      expect(new Uint8Array(tail)).toEqual(bytes.subarray(993));
      expectGuardBytes(tail);

      await source.readInto!(1000, new Uint8Array(0)); // an empty read at the very end is fine
    } finally {
      await source.close?.();
    }
  });

  it("rejects readInto ranges outside the file, leaving the target untouched", async () => {
    const path = join(dir, "small-into.bin");
    await writeFile(path, patternBytes(8, 1));
    const source = await fileByteSource(path);
    try {
      const target = new Uint8Array(5).fill(7);
      await expect(source.readInto!(4, target)).rejects.toThrow(RangeError);
      await expect(source.readInto!(4, target)).rejects.toThrow(`read 4+5 is outside ${path} (8 bytes)`);
      await expect(source.readInto!(-1, new Uint8Array(2))).rejects.toThrow(
        `read -1+2 is not a valid range of ${path}`,
      );
      await expect(source.readInto!(0.5, new Uint8Array(2))).rejects.toThrow(RangeError);
      await expect(source.readInto!(Number.NaN, new Uint8Array(2))).rejects.toThrow(RangeError);
      await expect(source.readInto!(9, new Uint8Array(0))).rejects.toThrow(RangeError);
      expect(target).toEqual(new Uint8Array(5).fill(7));
    } finally {
      await source.close?.();
    }
  });

  it("reports a file that shrank after opening as truncated when reading into a target", async () => {
    const path = join(dir, "shrinks-into.bin");
    await writeFile(path, patternBytes(100, 1));
    const source = await fileByteSource(path);
    try {
      await truncate(path, 40);
      await expectSafetensorsError(
        source.readInto!(20, sharedView(50)),
        path,
        "truncated",
        "wanted 50 bytes at offset 20",
        "after 20",
      );
      await expectSafetensorsError(source.readInto!(40, new Uint8Array(10)), path, "truncated", "after 0");
      // What is still there reads as before.
      const head = new Uint8Array(40);
      await source.readInto!(0, head);
      expect(head).toEqual(patternBytes(100, 1).subarray(0, 40));
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

describe("ByteSource readInto", () => {
  it("checkRange accepts ranges inside the size, empty ones at the end included", () => {
    expect(() => checkRange("x.bin", 10, 0, 10)).not.toThrow();
    expect(() => checkRange("x.bin", 10, 3, 4)).not.toThrow();
    expect(() => checkRange("x.bin", 10, 10, 0)).not.toThrow();
    expect(() => checkRange("x.bin", 0, 0, 0)).not.toThrow();
  });

  it("checkRange throws a RangeError naming the source for any other range", () => {
    expect(() => checkRange("x.bin", 10, 6, 5)).toThrow(
      new RangeError("read 6+5 is outside x.bin (10 bytes)"),
    );
    expect(() => checkRange("x.bin", 10, 11, 0)).toThrow(
      new RangeError("read 11+0 is outside x.bin (10 bytes)"),
    );
    expect(() => checkRange("x.bin", 10, -1, 2)).toThrow(
      new RangeError("read -1+2 is not a valid range of x.bin"),
    );
    expect(() => checkRange("x.bin", 10, 1, -1)).toThrow(
      new RangeError("read 1+-1 is not a valid range of x.bin"),
    );
    for (const [offset, length] of [
      [0.5, 1],
      [0, 1.5],
      [Number.NaN, 1],
      [0, Number.POSITIVE_INFINITY],
      [2 ** 53, 0],
    ] as const) {
      expect(() => checkRange("x.bin", 10, offset, length)).toThrow(
        new RangeError(`read ${offset}+${length} is not a valid range of x.bin`),
      );
    }
  });

  it("memoryByteSource.readInto copies exact bytes into a shared view", async () => {
    const bytes = patternBytes(64, 1, 5);
    const source = memoryByteSource("mem.bin", bytes);
    const target = sharedView(20);
    await source.readInto!(30, target);
    expect(new Uint8Array(target)).toEqual(bytes.subarray(30, 50));
    expectGuardBytes(target);
    const untouched = new Uint8Array(8).fill(1);
    await expect(source.readInto!(60, untouched)).rejects.toThrow(
      new RangeError("read 60+8 is outside mem.bin (64 bytes)"),
    );
    await expect(source.readInto!(-2, untouched)).rejects.toThrow(RangeError);
    expect(untouched).toEqual(new Uint8Array(8).fill(1));
  });

  it("readInto uses the source's own readInto when it has one", async () => {
    const bytes = patternBytes(32, 1, 2);
    const inner = memoryByteSource("own.bin", bytes);
    const calls: [number, number][] = [];
    const source: ByteSource = {
      name: "own.bin",
      size: 32,
      read: () => Promise.reject(new Error("read() must not be called")),
      readInto: (offset, target) => {
        calls.push([offset, target.byteLength]);
        return inner.readInto!(offset, target);
      },
    };
    const target = sharedView(12);
    await readInto(source, 4, target);
    expect(new Uint8Array(target)).toEqual(bytes.subarray(4, 16));
    expectGuardBytes(target);
    expect(calls).toEqual([[4, 12]]);
  });

  it("readInto falls back to read() and one copy for a source without readInto", async () => {
    const bytes = patternBytes(32, 1, 3);
    const inner = memoryByteSource("plain.bin", bytes);
    const calls: [number, number][] = [];
    const source: ByteSource = {
      name: "plain.bin",
      size: 32,
      read: (offset, length) => {
        calls.push([offset, length]);
        return inner.read(offset, length);
      },
    };
    const target = sharedView(9);
    await readInto(source, 23, target);
    expect(new Uint8Array(target)).toEqual(bytes.subarray(23, 32));
    expectGuardBytes(target);
    expect(calls).toEqual([[23, 9]]);

    const untouched = new Uint8Array(4).fill(9);
    await expect(readInto(source, 30, untouched)).rejects.toThrow(
      new RangeError("read 30+4 is outside plain.bin (32 bytes)"),
    );
    expect(untouched).toEqual(new Uint8Array(4).fill(9));
  });
});
