import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { GROUP } from "../../../../src/merge/kernels/wasm/abi.js";
import { planLayout, type LayoutRequest } from "../../../../src/merge/kernels/wasm/layout.js";
import type { FloatDType } from "../../../../src/safetensors/dtype.js";

const dtype = fc.constantFrom<FloatDType>("BF16", "F16", "F32");

const common = {
  heapBase: fc.integer({ min: 0, max: 5000 }),
  threads: fc.integer({ min: 1, max: 8 }),
  inputs: fc.array(dtype, { minLength: 1, maxLength: 5 }),
  output: dtype,
  models: fc.integer({ min: 1, max: 4 }),
  histograms: fc.boolean(),
  bufferBudget: fc.integer({ min: 1 << 16, max: 1 << 26 }),
};

/** Derived sizes on large tensors, or the small fixed windows and chunks the tests use. */
const request: fc.Arbitrary<LayoutRequest> = fc.oneof(
  fc.record({ ...common, count: fc.integer({ min: 1, max: 30_000_000 }) }),
  fc.record({
    ...common,
    count: fc.integer({ min: 1, max: 20_000 }),
    windowElements: fc.integer({ min: 1, max: 5000 }),
    chunkElements: fc.integer({ min: 1, max: 700 }),
  }),
);

/** Problems with the windows and chunks of a layout, as text (empty when it is right). */
function coverageProblems(r: LayoutRequest): string[] {
  const layout = planLayout(r);
  const problems: string[] = [];
  let next = 0;
  let chunkIndex = 0;
  for (const window of layout.windows) {
    if (window.start !== next || window.start % GROUP !== 0)
      problems.push(`window ${window.index} starts at ${window.start}`);
    if (window.firstChunk !== chunkIndex)
      problems.push(`window ${window.index} first chunk ${window.firstChunk}`);
    let inWindow = 0;
    for (const [from, to] of window.chunks) {
      if (from !== inWindow || from % GROUP !== 0 || to <= from) problems.push(`chunk [${from}, ${to})`);
      inWindow = to;
    }
    if (inWindow !== window.length) problems.push(`window ${window.index} chunks end at ${inWindow}`);
    next += window.length;
    chunkIndex += window.chunks.length;
  }
  if (next !== r.count) problems.push(`windows end at ${next}, not ${r.count}`);
  if (layout.chunkCount !== chunkIndex) problems.push(`chunkCount ${layout.chunkCount}`);
  return problems;
}

describe("planLayout", () => {
  it("cuts the tensor into group-aligned windows and chunks that cover it exactly once", () => {
    fc.assert(
      fc.property(request, (r) => {
        expect(coverageProblems(r)).toEqual([]);
      }),
    );
  });

  it("with blockAlign, cuts chunks at every block boundary and nowhere needless", () => {
    const aligned = fc.record({
      ...common,
      count: fc.integer({ min: 1, max: 300_000 }),
      blockAlign: fc.constantFrom(4096, 65536),
      windowElements: fc.option(fc.integer({ min: 100, max: 300_000 }), { nil: undefined }),
      chunkElements: fc.option(fc.integer({ min: 100, max: 100_000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(aligned, (r) => {
        expect(coverageProblems(r)).toEqual([]);
        const layout = planLayout(r);
        const block = r.blockAlign!;
        for (const window of layout.windows) {
          for (const [from, to] of window.chunks) {
            const start = window.start + from;
            // Inside one block, and ended early only by a block boundary, the window or the size.
            expect(Math.floor(start / block)).toBe(Math.floor((window.start + to - 1) / block));
            const limit = r.chunkElements === undefined ? Math.max(block, 16 * 1024) : Infinity;
            expect(to - from).toBeLessThanOrEqual(Math.min(limit, 256 * 1024));
          }
        }
      }),
    );
  });

  it("keeps regions apart and 16-byte aligned, and a window buffer within the budget", () => {
    const r: LayoutRequest = {
      heapBase: 1028,
      threads: 3,
      count: 50_000_000,
      inputs: ["BF16", "BF16", "F32"],
      output: "BF16",
      models: 2,
      histograms: true,
      bufferBudget: 32 << 20,
    };
    const layout = planLayout(r);
    const addresses = [layout.descriptor, layout.buckets, ...layout.workers.flatMap((w) => Object.values(w))];
    addresses.push(...layout.inputs, layout.output);
    addresses.forEach((address) => expect(address % 16).toBe(0));
    expect(addresses.every((address, i) => i === 0 || address > addresses[i - 1]!)).toBe(true);
    expect(layout.bufferShift).toBeLessThanOrEqual(r.bufferBudget + 4 * 256);
    expect(layout.windows.length).toBeGreaterThan(1);
  });
});
