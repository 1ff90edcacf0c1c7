/** ReadAhead: fetches the next reads in order within its memory budget, and hands them over. */
import { describe, expect, it } from "vitest";
import { ReadAhead, type PlannedRead } from "../../src/merge/read-ahead.js";

interface Fake {
  reads: PlannedRead[];
  started: number[];
  /** Completes read i (its bytes are all i % 251). */
  finish(i: number, error?: Error): void;
}

function fakeReads(sizes: number[]): Fake {
  const started: number[] = [];
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const reads = sizes.map((bytes, i) => ({
    bytes,
    read: (target: Uint8Array) => {
      started.push(i);
      return new Promise<void>((resolve, reject) => {
        pending.set(i, {
          resolve: () => {
            target.fill(i % 251);
            resolve();
          },
          reject,
        });
      });
    },
  }));
  return {
    reads,
    started,
    finish(i, error) {
      const p = pending.get(i)!;
      if (error) p.reject(error);
      else p.resolve();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ReadAhead", () => {
  it("fetches in order while the held bytes fit the budget, and fetches further as reads are taken", async () => {
    const fake = fakeReads([40, 40, 40, 40, 40]);
    const ahead = new ReadAhead(fake.reads, 100);
    ahead.start();
    expect(fake.started).toEqual([0, 1]);
    expect(ahead.heldBytes).toBe(80);
    const target = new Uint8Array(40);
    const taking = ahead.readInto(0, target);
    fake.finish(0);
    await taking;
    expect(target.every((b) => b === 0)).toBe(true);
    expect(fake.started).toEqual([0, 1, 2]);
    for (const i of [1, 2, 3, 4]) {
      await tick();
      const t = new Uint8Array(40);
      const p = ahead.readInto(i, t);
      fake.finish(i);
      await p;
      expect(t.every((b) => b === i)).toBe(true);
    }
    expect(ahead.peakHeldBytes).toBeLessThanOrEqual(100);
    expect(ahead.heldBytes).toBe(0);
  });

  it("never fetches ahead a read larger than the budget: the pipeline reads it directly, and memory stays bounded", async () => {
    const fake = fakeReads([10, 1000, 10, 10]);
    const ahead = new ReadAhead(fake.reads, 64);
    ahead.start();
    // The large read is skipped; the small ones after it still come ahead, within the budget.
    expect(fake.started).toEqual([0, 2, 3]);
    const big = new Uint8Array(1000);
    const direct = ahead.readInto(1, big);
    expect(fake.started).toEqual([0, 2, 3, 1]);
    fake.finish(1);
    await direct;
    expect(big.every((b) => b === 1)).toBe(true);
    expect(ahead.peakHeldBytes).toBe(30);
    for (const i of [0, 2, 3]) fake.finish(i);
    await ahead.close();
  });

  it("with a zero budget every read is direct", async () => {
    const fake = fakeReads([5, 5]);
    const ahead = new ReadAhead(fake.reads, 0);
    ahead.start();
    expect(fake.started).toEqual([]);
    const p = ahead.readInto(0, new Uint8Array(5));
    fake.finish(0);
    await p;
    expect(ahead.peakHeldBytes).toBe(0);
  });

  it("a failed fetch surfaces when its read is taken, and frees its budget", async () => {
    const fake = fakeReads([10, 10]);
    const ahead = new ReadAhead(fake.reads, 100);
    ahead.start();
    fake.finish(0, new Error("connection reset"));
    await expect(ahead.readInto(0, new Uint8Array(10))).rejects.toThrow("connection reset");
    expect(ahead.heldBytes).toBe(10);
    fake.finish(1);
    await ahead.close();
    expect(ahead.heldBytes).toBe(0);
  });

  it("close stops fetching and waits for what is in flight", async () => {
    const fake = fakeReads([10, 10, 10]);
    const ahead = new ReadAhead(fake.reads, 10);
    ahead.start();
    let closed = false;
    const closing = ahead.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    fake.finish(0);
    await closing;
    expect(fake.started).toEqual([0]);
  });

  it("refuses a bad budget or a target of the wrong size", async () => {
    expect(() => new ReadAhead([], -1)).toThrow(RangeError);
    const ahead = new ReadAhead(fakeReads([4]).reads, 10);
    await expect(ahead.readInto(0, new Uint8Array(3))).rejects.toThrow(RangeError);
  });
});
