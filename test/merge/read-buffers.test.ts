import { describe, expect, it } from "vitest";
import { BUFFER_SETS, ReadBuffers, type BufferSet } from "../../src/merge/read-buffers.js";

/** The set the pipeline reads unit i into. */
const setOf = (i: number) => (i % BUFFER_SETS) as BufferSet;

const MB = 1 << 20;

describe("ReadBuffers", () => {
  it("gives views of shared memory, exactly the size asked", () => {
    const view = new ReadBuffers().lease(0, 0, 1000);
    expect(view.byteLength).toBe(1000);
    expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("keeps a lease's bytes until the same set and slot are leased again", () => {
    const buffers = new ReadBuffers();
    const first = buffers.lease(0, 0, 64).fill(1);
    const other = buffers.lease(1, 0, 64).fill(2); // another set: another buffer
    buffers.lease(0, 1, 64).fill(3); // another slot: another buffer
    expect(first.every((b) => b === 1)).toBe(true);
    expect(other.buffer).not.toBe(first.buffer);
    const again = buffers.lease(0, 0, 64); // releases `first`: it may be reused
    expect(again.buffer).not.toBe(other.buffer);
  });

  it("reuses buffers: a run of tensors allocates a few buffers, not one per tensor", () => {
    const buffers = new ReadBuffers();
    for (let i = 0; i < 100; i++) buffers.lease(setOf(i), 0, 8 * MB);
    expect(buffers.allocatedBytes).toBe(BUFFER_SETS * 8 * MB);
  });

  it("keeps small tensors out of the large buffer, so two huge tensors apart share one", () => {
    // A model's order: embedding, layers of smaller tensors, LM head (as in the benchmark's models).
    const sizes = [131, 0.01, 8, 1, 1, 8, 0.01, 23, 23, 23, 0.01, 131].map((mb) => Math.round(mb * MB));
    const buffers = new ReadBuffers();
    sizes.forEach((bytes, i) => buffers.lease(setOf(i), 0, bytes));
    // One 131 MB buffer, and the layers' buffers (by turns alone, the LM head would get its own).
    expect(buffers.allocatedBytes).toBeLessThan(131 * MB + BUFFER_SETS * 23 * MB + 1);
    const withAnotherLayer = new ReadBuffers();
    [...sizes.slice(0, -1), 23, 131].forEach((bytes, i) =>
      withAnotherLayer.lease((i % 2) as 0 | 1, 0, bytes),
    );
    expect(withAnotherLayer.allocatedBytes).toBeLessThan(131 * MB + BUFFER_SETS * 23 * MB + 1);
  });

  it("never hands out a buffer another set still holds", () => {
    const buffers = new ReadBuffers();
    const held = [0, 1, 2].map((set) => buffers.lease(set as BufferSet, 0, 100 * MB).fill(set + 1, 0, 16));
    expect(new Set(held.map((view) => view.buffer)).size).toBe(3);
    held.forEach((view, set) => expect(view[0]).toBe(set + 1));
    const again = buffers.lease(0, 0, 10); // releases set 0's buffer only
    expect(again.buffer).not.toBe(held[1]!.buffer);
    expect(again.buffer).not.toBe(held[2]!.buffer);
  });
});
