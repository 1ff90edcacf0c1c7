import fc from "fast-check";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ACCELERATED_METHODS } from "../../../../src/merge/methods/registry.js";
import { methodRegistry } from "../../../../src/merge/methods/registry.js";
import type { GpuBackend } from "../../../../src/merge/kernels/webgpu/backend.js";
import { caseTensors, fastArgs, mergeCase, type MergeCase } from "../wasm/merge-cases.js";
import {
  GPU_METHODS,
  checkMergeCase,
  checkMethod,
  checkPiecesCase,
  largeCase,
  straddleCase,
} from "./equality-suite.js";
import { openTestRuntime } from "./gpu-setup.js";

/** Small chunks, so that random shapes cross chunk boundaries; one runtime rotates its uploads. */
const CONFIGS = {
  "chunks of 256": { chunkElements: 256 },
  "chunks of 768, inputs re-uploaded per pass": { chunkElements: 768, residentBytes: 1 },
} as const;

const runtimes = new Map<string, GpuBackend>();
for (const [name, options] of Object.entries(CONFIGS)) {
  const runtime = await openTestRuntime(options);
  if (runtime) runtimes.set(name, runtime);
}
const available = runtimes.size > 0;
afterAll(async () => Promise.all([...runtimes.values()].map((runtime) => runtime.close())));

describe.skipIf(!available)("the WebGPU backend gives the reference's bytes", () => {
  for (const method of GPU_METHODS) {
    for (const config of Object.keys(CONFIGS)) {
      it(`${method}, ${config}`, async () => {
        const runtime = runtimes.get(config)!;
        expect(await checkMethod(runtime, method, 24)).toBeGreaterThan(5);
      });
    }
  }

  it.each(["ties", "breadcrumbs_ties"])(
    "%s when elements equal to the cut straddle it (many zero deltas)",
    async (method) => {
      const runtime = runtimes.get("chunks of 256")!;
      const pipeline = vi.spyOn(runtime.context, "pipeline");
      expect(await checkMergeCase(straddleCase(method), runtime)).toBe(true);
      expect(pipeline).toHaveBeenCalledWith("count_equal");
      pipeline.mockRestore();
    },
  );

  it.each(["dare_ties", "ties", "task_arithmetic", "linear"])(
    "%s on a tensor of several default-sized chunks",
    async (method) => {
      const runtime = await openTestRuntime({ chunkElements: 65536 });
      try {
        expect(await checkMergeCase(largeCase(method, 300_007), runtime!)).toBe(true);
      } finally {
        await runtime?.close();
      }
    },
  );

  it.each(["dare_ties", "dare_linear", "nearswap"])("%s in pieces that cross chunks", async (method) => {
    const runtime = runtimes.get("chunks of 256")!;
    // Pieces of 1,008 elements (not a multiple of the chunk) over 5,007 elements: the last is short.
    expect(await checkPiecesCase(largeCase(method, 5_007), runtime, 1_008)).toBe(5);
  });

  it("runs concurrent requests one after the other", async () => {
    const runtime = runtimes.get("chunks of 256")!;
    const cases = fc.sample(mergeCase("dare_ties"), { numRuns: 6, seed: 5 });
    const results = await Promise.all(cases.map((c) => checkMergeCase(c, runtime)));
    expect(results.filter(Boolean).length).toBeGreaterThan(0);
  });
});

describe.skipIf(!available)("the WebGPU backend declines what it cannot reproduce", () => {
  const base = fc.sample(mergeCase("dare_ties"), { numRuns: 1, seed: 3 })[0]!;
  const c: MergeCase = {
    ...base,
    shape: [64],
    models: [{ ...base.models[0]!, params: { weight: 1, density: 0.5 } }],
  };
  const tensors = caseTensors(c);

  it("declines sce (its variances and sums of squares are f64, which WGSL lacks), which wasm runs", async () => {
    expect(ACCELERATED_METHODS).toContain("sce");
    const runtime = runtimes.get("chunks of 256")!;
    const sce: MergeCase = { ...c, method: "sce", global: { select_topk: 0.5 } };
    expect(await runtime.tryMerge(fastArgs(sce, caseTensors(sce)))).toBeUndefined();
  });

  it.each([
    ["the method is not accelerated", { method: methodRegistry.get("slerp")! }],
    ["DARE rescales by L1 norms", { dareRescale: "l1" as const, global: { rescale: true } }],
    ["the action is a copy", { recipe: { ...fastArgs(c, tensors).recipe, action: "copy" as const } }],
    ["a shape differs", { inputs: tensors.inputs.map((t) => ({ ...t, shape: [8, 8] })) }],
    ["a dtype is not F32/F16/BF16", { base: { bytes: new Uint8Array(64 * 8), dtype: "F64" as const } }],
    ["a byte length is wrong", { base: { bytes: new Uint8Array(3), dtype: "BF16" as const } }],
    ["a weight is missing", { inputs: tensors.inputs.map((t) => ({ ...t, params: { density: 0.5 } })) }],
  ])("returns undefined when %s", async (_why, change) => {
    const runtime = runtimes.get("chunks of 256")!;
    expect(await runtime.tryMerge({ ...fastArgs(c, tensors), ...change })).toBeUndefined();
  });
});
