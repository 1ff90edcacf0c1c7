import { afterEach, describe, expect, it } from "vitest";
import { HubmergeError } from "../../../../../src/errors.js";
import {
  createKernelMemory,
  instantiateKernels,
  kernelModule,
} from "../../../../../src/merge/kernels/wasm/load-kernels.js";
import { KernelPool } from "../../../../../src/merge/kernels/wasm/workers/pool.js";

const pools: KernelPool[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function setUp(threads: number) {
  const memory = createKernelMemory(4);
  const heapBase = Math.ceil(instantiateKernels(memory).heapBase() / 16) * 16;
  const pool = new KernelPool({ threads, module: kernelModule(), memory });
  pools.push(pool);
  return { memory, heapBase, pool };
}

describe("KernelPool", () => {
  it("runs kernel calls on every worker over the shared memory", async () => {
    const { memory, heapBase, pool } = setUp(3);
    const values = new Float32Array(memory.buffer, heapBase, 1000);
    values.fill(0.5);
    const used = new Set<number>();
    const counts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.run((worker) => {
          used.add(worker);
          return { op: "countKey", args: [heapBase, 1000 - i, 0x3f000000] };
        }),
      ),
    );
    expect(counts.map((c) => c.result)).toEqual(Array.from({ length: 12 }, (_, i) => 1000 - i));
    expect(pool.size).toBe(3);
    expect(used.size).toBeGreaterThan(1);
  });

  it("writes arguments before a call, reads results after it, and copies bytes out", async () => {
    const { memory, heapBase, pool } = setUp(2);
    const counter = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0];
    const target = new SharedArrayBuffer(24);
    const { values } = await pool.run(() => ({
      op: "philoxBlock",
      args: [heapBase, heapBase + 16, heapBase + 32],
      write: { ptr: heapBase, values: counter },
      read: { ptr: heapBase + 32, count: 4 },
      copyOut: { from: heapBase + 32, length: 16, target, offset: 8 },
    }));
    expect(values).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
    expect(Array.from(new Uint32Array(target, 8, 4))).toEqual(values);
    expect(new Uint32Array(memory.buffer, heapBase, 1)[0]).toBe(counter[0]);
  });

  it("reports a failing kernel as an internal error and keeps working", async () => {
    const { pool } = setUp(1);
    await expect(pool.run(() => ({ op: "noSuchKernel", args: [] }))).rejects.toBeInstanceOf(HubmergeError);
    await expect(
      pool.run(() => ({ op: "mergeChunk", args: [0xfffffff0, 0, 0, 0, 64, 0xfffffff0, 0] })),
    ).rejects.toThrow(/kernel failed/);
    expect((await pool.run(() => ({ op: "heapBase", args: [] }))).result).toBeGreaterThan(0);
  });

  it("rejects tasks after close", async () => {
    const { pool } = setUp(1);
    await pool.close();
    await expect(pool.run(() => ({ op: "heapBase", args: [] }))).rejects.toThrow(/closed/);
  });
});
