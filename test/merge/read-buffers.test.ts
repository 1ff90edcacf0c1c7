import { describe, expect, it } from "vitest";
import { ReadBuffers } from "../../src/merge/read-buffers.js";

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
    const other = buffers.lease(1, 0, 64).fill(2); // the other set: another buffer
    buffers.lease(0, 1, 64).fill(3); // another slot: another buffer
    expect(first.every((b) => b === 1)).toBe(true);
    expect(other.buffer).not.toBe(first.buffer);
    const again = buffers.lease(0, 0, 64); // releases `first`: it may be reused
    expect(again.buffer).not.toBe(other.buffer);
  });

  it("reuses buffers: a run of tensors allocates a few buffers, not one per tensor", () => {
    const buffers = new ReadBuffers();
    for (let i = 0; i < 100; i++) buffers.lease((i % 2) as 0 | 1, 0, 8 * MB);
    expect(buffers.allocatedBytes).toBe(16 * MB);
  });

  it("keeps small tensors out of the large buffer, so two huge tensors apart share one", () => {
    // A model's order: embedding, layers of smaller tensors, LM head (as in the benchmark's models).
    const sizes = [131, 0.01, 8, 1, 1, 8, 0.01, 23, 23, 23, 0.01, 131].map((mb) => Math.round(mb * MB));
    const buffers = new ReadBuffers();
    sizes.forEach((bytes, i) => buffers.lease((i % 2) as 0 | 1, 0, bytes));
    // One 131 MB buffer; two more for the layers (the second pair's parity would otherwise give two).
    expect(buffers.allocatedBytes).toBeLessThan(131 * MB + 2 * 23 * MB + 1);
    const withAnotherLayer = new ReadBuffers();
    [...sizes.slice(0, -1), 23, 131].forEach((bytes, i) =>
      withAnotherLayer.lease((i % 2) as 0 | 1, 0, bytes),
    );
    expect(withAnotherLayer.allocatedBytes).toBe(buffers.allocatedBytes);
  });

  it("holds two huge tensors at once when they are read back to back", () => {
    const buffers = new ReadBuffers();
    const a = buffers.lease(0, 0, 100 * MB).fill(7, 0, 16);
    const b = buffers.lease(1, 0, 100 * MB);
    expect(b.buffer).not.toBe(a.buffer);
    expect(a[0]).toBe(7);
  });
});
