import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tryOpenGpu } from "../../src/merge/kernels/webgpu/adapter.js";
import { runMerge } from "../../src/pipeline/index.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const manifest = (method: string, extra = "") => `merge_method: ${method}
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.7, density: 0.3}
  - model: ./ft2
    parameters: {weight: 0.4, density: 0.6}
  - model: ./ft3
    parameters: {weight: 0.2, density: 0.9}
${extra}hubmerge: {seed: 3}
`;

describe("every kernel backend writes the reference's bytes", () => {
  for (const method of ["dare_ties", "ties", "task_arithmetic", "dare_linear", "breadcrumbs_ties"]) {
    it(`${method}: reference, wasm at 1 and 3 threads, wasm in pieces`, async () => {
      const dir = await tempDir();
      await writeFamily(dir, { fineTunes: 3 });
      const manifestPath = await writeManifest(dir, manifest(method, "parameters: {normalize: true}\n"));
      const outputs: Buffer[] = [];
      // Pieces of 80 elements: tensors of 2048 and 1536 elements end in a partial piece.
      for (const [backend, threads, pieceElements] of [
        ["reference", 1, undefined],
        ["wasm", 1, undefined],
        ["wasm", 3, undefined],
        ["wasm", 2, 80],
      ] as const) {
        const out = join(dir, `${backend}-${threads}-${pieceElements ?? "whole"}`);
        const result = await runMerge({ manifestPath, out, backend, threads, pieceElements });
        expect(result.kernels).toBe(
          backend === "reference" ? "reference" : `wasm (${threads} thread${threads > 1 ? "s" : ""})`,
        );
        outputs.push(await readFile(join(out, "model.safetensors")));
      }
      for (const output of outputs.slice(1)) expect(output.equals(outputs[0]!)).toBe(true);
    });
  }

  it("webgpu on the software adapter, whole and in pieces", async (ctx) => {
    const probe = await tryOpenGpu({ allowSoftware: true });
    if (!probe.gpu) ctx.skip();
    const dir = await tempDir();
    await writeFamily(dir, { fineTunes: 3 });
    const manifestPath = await writeManifest(dir, manifest("dare_ties"));
    process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"] = "1";
    try {
      const gpu = await runMerge({ manifestPath, out: join(dir, "gpu"), backend: "webgpu" });
      expect(gpu.kernels).toMatch(/^webgpu \(.*software\)/);
      await runMerge({ manifestPath, out: join(dir, "pieces"), backend: "webgpu", pieceElements: 400 });
      await runMerge({ manifestPath, out: join(dir, "ref"), backend: "reference" });
      const expected = await readFile(join(dir, "ref", "model.safetensors"));
      expect(await readFile(join(dir, "gpu", "model.safetensors"))).toEqual(expected);
      expect(await readFile(join(dir, "pieces", "model.safetensors"))).toEqual(expected);
    } finally {
      delete process.env["HUBMERGE_GPU_ALLOW_SOFTWARE"];
    }
  });
});
