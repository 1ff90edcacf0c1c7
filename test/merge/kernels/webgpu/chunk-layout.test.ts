import { describe, expect, it } from "vitest";
import { DEFAULT_BINDING_BYTES, planChunks } from "../../../../src/merge/kernels/webgpu/chunk-layout.js";

describe("planChunks", () => {
  it("covers any tensor with chunks of a multiple of 256 elements", () => {
    const layout = planChunks({
      count: 1000,
      base: "BF16",
      models: ["F16", "F32"],
      out: "BF16",
      chunkElements: 300,
    })!;
    expect(layout.elements).toBe(256);
    expect(layout.chunks.map((c) => [c.start, c.length])).toEqual([
      [0, 256],
      [256, 256],
      [512, 256],
      [768, 232],
    ]);
    expect(layout.sections).toEqual({ base: 0, models: [128, 256] });
    expect(layout.inputWords).toBe(512);
    expect(layout.segments).toBe(1);
  });

  it("keeps every binding within the limit", () => {
    const models = Array.from({ length: 7 }, () => "F32" as const);
    const layout = planChunks({ count: 1e9, base: "F32", models, out: "F32", chunkElements: 1e9 })!;
    expect(layout.inputWords * 4).toBeLessThanOrEqual(DEFAULT_BINDING_BYTES);
    expect(layout.outputWords * 4).toBeLessThanOrEqual(DEFAULT_BINDING_BYTES);
    expect(layout.chunks.at(-1)!.start + layout.chunks.at(-1)!.length).toBe(1e9);
  });

  it("uses one chunk for a small tensor and declines when nothing fits", () => {
    expect(planChunks({ count: 5, models: ["BF16"], out: "F32" })!.chunks).toEqual([
      { index: 0, start: 0, length: 5 },
    ]);
    expect(planChunks({ count: 5, models: ["F32"], out: "F32", bindingBytes: 1000 })).toBeUndefined();
    expect(planChunks({ count: 0, models: ["F32"], out: "F32" })).toBeUndefined();
  });
});
