import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { tryOpenGpu } from "../../src/merge/kernels/webgpu/adapter.js";
import { methodRegistry } from "../../src/merge/methods/registry.js";
import { runMerge } from "../../src/pipeline/index.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const MANIFESTS = {
  nearswap: `merge_method: nearswap
base_model: ./base
models:
  - model: ./ft1
parameters: {t: 0.003}
`,
  sce: `merge_method: sce
base_model: ./base
models:
  - model: ./ft1
  - model: ./ft2
  - model: ./ft3
parameters: {select_topk: 0.4}
`,
};

type Run = [backend: "reference" | "wasm" | "webgpu", threads: number, pieceElements: number | undefined];

/**
 * Runs the manifest on each backend; returns the written shards' bytes, the kernels' label and how
 * many tensors the method's reference code merged (0 when the fast kernels took every tensor).
 */
async function mergeEach(method: keyof typeof MANIFESTS, runs: Run[]): Promise<[Buffer, string, number][]> {
  const dir = await tempDir();
  await writeFamily(dir, { fineTunes: 3 });
  const manifestPath = await writeManifest(dir, MANIFESTS[method]);
  const reference = vi.spyOn(methodRegistry.get(method)!, "merge");
  const outputs: [Buffer, string, number][] = [];
  try {
    for (const [backend, threads, pieceElements] of runs) {
      const out = join(dir, `${backend}-${threads}-${pieceElements ?? "whole"}`);
      reference.mockClear();
      const result = await runMerge({ manifestPath, out, backend, threads, pieceElements });
      outputs.push([
        await readFile(join(out, "model.safetensors")),
        result.kernels,
        reference.mock.calls.length,
      ]);
    }
  } finally {
    reference.mockRestore();
  }
  return outputs;
}

describe("nearswap and sce merges write the reference's bytes on every backend", () => {
  it.each(["nearswap", "sce"] as const)(
    "%s: reference, wasm at 1 and 3 threads, wasm in pieces",
    async (method) => {
      const outputs = await mergeEach(method, [
        ["reference", 1, undefined],
        ["wasm", 1, undefined],
        ["wasm", 3, undefined],
        ["wasm", 2, 80], // nearswap in pieces of 80 elements; sce always whole (it needs the tensor)
      ]);
      expect(outputs.map(([, kernels]) => kernels)).toEqual([
        "reference",
        "wasm (1 thread)",
        "wasm (3 threads)",
        "wasm (2 threads)",
      ]);
      expect(outputs[0]![2]).toBeGreaterThan(0);
      for (const [bytes, , referenceMerges] of outputs.slice(1)) {
        expect(bytes.equals(outputs[0]![0])).toBe(true);
        expect(referenceMerges).toBe(0);
      }
    },
  );

  for (const method of ["nearswap", "sce"] as const) {
    it(`${method}: webgpu on the software adapter (sce falls to wasm)`, async (ctx) => {
      const probe = await tryOpenGpu({ allowSoftware: true });
      if (!probe.gpu) ctx.skip();
      process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"] = "1";
      try {
        const [reference, gpu] = await mergeEach(method, [
          ["reference", 1, undefined],
          ["webgpu", 2, undefined],
        ]);
        expect(gpu![1]).toMatch(/^webgpu \(.*software\) \+ wasm \(2 threads\)$/);
        expect(gpu![0].equals(reference![0])).toBe(true);
        expect(gpu![2]).toBe(0);
      } finally {
        delete process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"];
      }
    });
  }
});
