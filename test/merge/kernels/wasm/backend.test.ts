import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { openCpuBackend, type KernelBackend } from "../../../../src/merge/kernels/index.js";
import { openWasmBackend } from "../../../../src/merge/kernels/wasm/backend.js";
import { ACCELERATED_METHODS } from "../../../../src/merge/methods/registry.js";
import { methodRegistry } from "../../../../src/merge/methods/registry.js";
import { DTYPE_SIZE } from "../../../../src/safetensors/dtype.js";
import {
  caseTensors,
  fastArgs,
  firstDifference,
  mergeCase,
  referenceBytes,
  type MergeCase,
} from "./merge-cases.js";
import { closeSharedBackends, tryFastMerge } from "../../../support/kernels.js";

/**
 * Small windows and chunks, so that random shapes cross every boundary; 1, 2 and 3 threads; the
 * result in the runtime's buffers or over a given-up input; inputs in ordinary or shared memory.
 */
const CONFIGS = {
  "1 thread, windows of 160, chunks of 48": {
    runtime: { threads: 1, windowElements: 160, chunkElements: 48 },
    consume: false,
    shared: false,
  },
  "3 threads, windows of 100, chunks of 40, result over an input": {
    runtime: { threads: 3, windowElements: 100, chunkElements: 40 },
    consume: true,
    shared: false,
  },
  "2 threads, windows of 96, chunks of 32, shared inputs, result over an input": {
    runtime: { threads: 2, windowElements: 96, chunkElements: 32 },
    consume: true,
    shared: true,
  },
} as const;

type Config = (typeof CONFIGS)[keyof typeof CONFIGS];

const runtimes = new Map<string, KernelBackend>();

beforeAll(() => {
  for (const [name, config] of Object.entries(CONFIGS)) {
    runtimes.set(name, openWasmBackend(config.runtime));
  }
});

afterAll(async () => {
  await Promise.all([...runtimes.values()].map((runtime) => runtime.close()));
  await closeSharedBackends();
});

/** The same bytes in a SharedArrayBuffer (as a reader filling shared memory would give them). */
function inSharedMemory(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

/**
 * Compares one case; returns whether the fast path took it (the reference must not throw). With
 * `consume`, the result may overwrite an input (the reference has already read them all).
 */
async function compare(
  c: MergeCase,
  runtime: KernelBackend,
  options: Pick<Config, "consume" | "shared"> = { consume: false, shared: false },
): Promise<boolean> {
  let tensors = caseTensors(c);
  let expected: Uint8Array;
  try {
    expected = referenceBytes(c, tensors);
  } catch {
    return false; // parameters the reference rejects are the reference's to report
  }
  if (options.shared) {
    tensors = {
      base: tensors.base && { ...tensors.base, bytes: inSharedMemory(tensors.base.bytes) },
      inputs: tensors.inputs.map((t) => ({ ...t, bytes: inSharedMemory(t.bytes) })),
    };
  }
  const actual = await runtime.tryMerge({ ...fastArgs(c, tensors), consumeInputs: options.consume });
  if (!actual) return false;
  expect(firstDifference(actual, expected, DTYPE_SIZE[c.outDtype])).toBeUndefined();
  return true;
}

describe("tryFastMerge gives the reference's bytes", () => {
  for (const method of ACCELERATED_METHODS) {
    for (const config of Object.keys(CONFIGS)) {
      it(`${method}, ${config}`, async () => {
        const runtime = runtimes.get(config)!;
        let handled = 0;
        await fc.assert(
          fc.asyncProperty(mergeCase(method), async (c) => {
            if (await compare(c, runtime, CONFIGS[config as keyof typeof CONFIGS])) handled++;
          }),
          { numRuns: 25 },
        );
        expect(handled).toBeGreaterThan(5);
      });
    }
  }

  it.each(["dare_ties", "ties", "task_arithmetic"])(
    "%s on a tensor of several default-sized windows and chunks, 2 threads",
    async (method) => {
      const runtime = openWasmBackend({ threads: 2, bufferBudget: 1 << 20 });
      try {
        const c: MergeCase = {
          ...fc.sample(mergeCase(method), { numRuns: 1, seed: 7 })[0]!,
          shape: [300_007],
          models: [
            { model: "org/a", dtype: "BF16", params: { weight: 0.7, density: 0.3 } },
            { model: "org/b", dtype: "F16", params: { weight: 0.4, density: 0.55 } },
          ],
          global: { rescale: method === "dare_ties" },
          special: 0.01,
        };
        expect(await compare(c, runtime)).toBe(true);
      } finally {
        await runtime.close();
      }
    },
  );
});

describe("tryFastMerge writing the result over an input", () => {
  it("never overwrites a buffer that another input still reads", async () => {
    const runtime = runtimes.get("1 thread, windows of 160, chunks of 48")!;
    const base = fc.sample(mergeCase("task_arithmetic"), { numRuns: 1, seed: 11 })[0]!;
    const c: MergeCase = {
      ...base,
      shape: [1000],
      baseDtype: "BF16",
      outDtype: "BF16",
      models: [{ model: "org/a", dtype: "BF16", params: { weight: 0.5 } }],
    };
    const tensors = caseTensors(c);
    const shared = tensors.base!.bytes; // the base and the model are the same bytes
    const aliased = { ...tensors, inputs: [{ ...tensors.inputs[0]!, bytes: shared }] };
    const expected = referenceBytes(c, aliased);
    const actual = await runtime.tryMerge({ ...fastArgs(c, aliased), consumeInputs: true });
    expect(firstDifference(actual!, expected, 2)).toBeUndefined();
    expect(actual!.buffer).not.toBe(shared.buffer);
  });

  it("returns a view of a consumed input when one is wide enough", async () => {
    const runtime = runtimes.get("1 thread, windows of 160, chunks of 48")!;
    const base = fc.sample(mergeCase("dare_linear"), { numRuns: 1, seed: 12 })[0]!;
    const c: MergeCase = { ...base, shape: [777], baseDtype: "F32", outDtype: "BF16" };
    const tensors = caseTensors(c);
    const expected = referenceBytes(c, tensors);
    const actual = await runtime.tryMerge({ ...fastArgs(c, tensors), consumeInputs: true });
    expect(firstDifference(actual!, expected, 2)).toBeUndefined();
    expect(actual!.buffer).toBe(tensors.base!.bytes.buffer);
  });
});

describe("tryFastMerge falls back to the reference", () => {
  const base = fc.sample(mergeCase("dare_ties"), { numRuns: 1, seed: 3 })[0]!;
  const c: MergeCase = {
    ...base,
    shape: [64],
    models: [{ ...base.models[0]!, params: { weight: 1, density: 0.5 } }],
  };
  const tensors = caseTensors(c);

  it("returns the merge with the wasm backend, and shared runtimes work without one", async () => {
    const bytes = await tryFastMerge({ ...fastArgs(c, tensors), backend: "wasm", threads: 2 });
    expect(
      bytes && firstDifference(bytes, referenceBytes(c, tensors), DTYPE_SIZE[c.outDtype]),
    ).toBeUndefined();
  });

  it.each([
    ["the reference backend is chosen", { backend: "reference" as const }],
    ["the method is not accelerated", { method: methodRegistry.get("slerp")! }],
    ["DARE rescales by L1 norms", { dareRescale: "l1" as const }],
    ["the action is a copy", { recipe: { ...fastArgs(c, tensors).recipe, action: "copy" as const } }],
    ["a shape differs", { inputs: tensors.inputs.map((t) => ({ ...t, shape: [8, 8] })) }],
    ["a dtype is not F32/F16/BF16", { base: { bytes: new Uint8Array(64 * 8), dtype: "F64" as const } }],
    ["a byte length is wrong", { base: { bytes: new Uint8Array(3), dtype: "BF16" as const } }],
    ["a weight is missing", { inputs: tensors.inputs.map((t) => ({ ...t, params: { density: 0.5 } })) }],
    ["lambda is not a number", { global: { lambda: "x" } }],
  ])("returns undefined when %s", async (_why, change) => {
    expect(
      await tryFastMerge({ ...fastArgs(c, tensors), backend: "auto", threads: 1, ...change }),
    ).toBeUndefined();
  });

  it("reports the resolved backend", async () => {
    const runtime = openCpuBackend("reference", 4);
    expect(runtime.label).toBe("reference");
    expect(await runtime.tryMerge(fastArgs(c, tensors))).toBeUndefined();
    await runtime.close();
    const auto = openCpuBackend("auto", 1);
    expect(auto.label).toBe("wasm (1 thread)");
    await auto.close();
  });
});
