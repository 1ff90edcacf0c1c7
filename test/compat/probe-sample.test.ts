import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TensorLayout } from "../../src/compat/layout-diff.js";
import {
  planProbeSample,
  sampledLayers,
  spreadBlocks,
  SHARD_PREFIX_BYTES,
} from "../../src/compat/probe-sample.js";
import { DEFAULT_PROBE_OPTIONS } from "../../src/compat/thresholds.js";
import { tinyLlamaTensors } from "../../src/synth/tiny-llama.js";
import { TEST_LLAMA } from "../support/models.js";

const table = (dtype: "BF16" | "F32" = "BF16") =>
  new Map<string, TensorLayout>(
    tinyLlamaTensors({ ...TEST_LLAMA, layers: 8 }).map((t) => [t.name, { dtype, shape: t.shape }]),
  );

describe("sampledLayers", () => {
  it("spreads from the first layer to the last", () => {
    expect(sampledLayers(32, 4)).toEqual([0, 10, 21, 31]);
    expect(sampledLayers(3, 4)).toEqual([0, 1, 2]);
    expect(sampledLayers(5, 1)).toEqual([0]);
    expect(sampledLayers(0, 4)).toEqual([]);
  });
});

describe("spreadBlocks", () => {
  it("reads a small tensor whole", () => {
    expect(spreadBlocks([4, 8], 100, 4)).toEqual([{ offset: 0, length: 32 }]);
  });

  it("takes whole rows spread over the tensor", () => {
    expect(spreadBlocks([100, 10], 80, 4)).toEqual([
      { offset: 0, length: 20 },
      { offset: 320, length: 20 },
      { offset: 650, length: 20 },
      { offset: 980, length: 20 },
    ]);
  });

  it("stays within the tensor and the budget, with disjoint ascending blocks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 8 }),
        (rows, cols, budget, count) => {
          const blocks = spreadBlocks([rows, cols], budget, count);
          const total = blocks.reduce((n, b) => n + b.length, 0);
          expect(total).toBeLessThanOrEqual(Math.max(budget, 0));
          let end = 0;
          for (const b of blocks) {
            expect(b.offset).toBeGreaterThanOrEqual(end);
            expect(b.length).toBeGreaterThanOrEqual(0);
            end = b.offset + b.length;
          }
          expect(end).toBeLessThanOrEqual(rows * cols);
        },
      ),
    );
  });
});

describe("planProbeSample", () => {
  it("samples embeddings, then attention and MLP in layers spread over the stack", () => {
    const plan = planProbeSample({
      reference: table(),
      referenceLayers: 8,
      others: [],
      options: DEFAULT_PROBE_OPTIONS,
    });
    expect(plan.map((t) => [t.kind, t.name])).toEqual([
      ["embedding", "model.embed_tokens.weight"],
      ["embedding", "lm_head.weight"],
      ["attention", "model.layers.0.self_attn.q_proj.weight"],
      ["mlp", "model.layers.0.mlp.gate_proj.weight"],
      ["attention", "model.layers.2.self_attn.k_proj.weight"],
      ["mlp", "model.layers.2.mlp.up_proj.weight"],
      ["attention", "model.layers.5.self_attn.v_proj.weight"],
      ["mlp", "model.layers.5.mlp.down_proj.weight"],
      ["attention", "model.layers.7.self_attn.o_proj.weight"],
      ["mlp", "model.layers.7.mlp.gate_proj.weight"],
    ]);
  });

  it("fits the budget for the widest dtype any model stores a tensor in", () => {
    const maxBytesPerModel = 4096;
    const options = { ...DEFAULT_PROBE_OPTIONS, maxBytesPerModel };
    const plan = planProbeSample({ reference: table(), referenceLayers: 8, others: [table("F32")], options });
    const elements = plan.flatMap((t) => t.blocks).reduce((n, b) => n + b.length, 0);
    expect(elements * 4 + SHARD_PREFIX_BYTES * plan.length).toBeLessThanOrEqual(maxBytesPerModel);
    expect(elements * 4).toBeGreaterThan(maxBytesPerModel / 2);
  });
});
