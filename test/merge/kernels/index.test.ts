import fc from "fast-check";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { KernelBackend } from "../../../src/merge/kernels/backend.js";
import { openKernels } from "../../../src/merge/kernels/index.js";
import { PIECE_ELEMENTS, type PieceQuery } from "../../../src/merge/kernels/request.js";
import { GPU_PIECE_ELEMENTS } from "../../../src/merge/kernels/webgpu/backend.js";
import { DTYPE_SIZE } from "../../../src/safetensors/dtype.js";
import {
  caseTensors,
  fastArgs,
  firstDifference,
  mergeCase,
  referenceBytes,
  type MergeCase,
} from "./wasm/merge-cases.js";
import { openTestRuntime, requireHardware } from "./webgpu/gpu-setup.js";

const sample = (method: string): MergeCase => ({
  ...fc.sample(mergeCase(method), { numRuns: 1, seed: 5 })[0]!,
  shape: [200],
  models: [{ model: "org/a", dtype: "BF16", params: { weight: 0.5, density: 0.4 } }],
});

/** What the executor asks before reading a tensor of `shape` (the bytes are never looked at). */
function query(method: string, shape = [200]): PieceQuery {
  const c = sample(method);
  return fastArgs({ ...c, shape }, caseTensors(c));
}

/** A tensor past the WebGPU kernels' u32 element indices. */
const HUGE = [2 ** 32 + 16];

async function mergesLikeTheReference(backend: KernelBackend): Promise<void> {
  const c = sample("dare_ties");
  const tensors = caseTensors(c);
  const bytes = await backend.tryMerge(fastArgs(c, tensors));
  expect(bytes).toBeDefined();
  expect(firstDifference(bytes!, referenceBytes(c, tensors), DTYPE_SIZE[c.outDtype])).toBeUndefined();
}

const opened: KernelBackend[] = [];
afterAll(async () => Promise.all(opened.map((backend) => backend.close())));
const open = async (choice: Parameters<typeof openKernels>[0], threads?: number) => {
  const backend = await openKernels(choice, threads);
  opened.push(backend);
  return backend;
};

describe("every --backend choice is one KernelBackend", () => {
  it("reference declines every tensor, and so never takes pieces", async () => {
    const backend = await open("reference", 4);
    expect(backend.label).toBe("reference");
    const c = sample("dare_ties");
    expect(await backend.tryMerge(fastArgs(c, caseTensors(c)))).toBeUndefined();
    expect(backend.canMergePieces(query("dare_ties"))).toBe(false);
    expect(backend.pieceElements).toBe(PIECE_ELEMENTS);
  });

  it("wasm merges to the reference's bytes and takes elementwise tensors in pieces", async () => {
    const backend = await open("wasm", 2);
    expect(backend.label).toBe("wasm (2 threads)");
    await mergesLikeTheReference(backend);
    expect(backend.canMergePieces(query("dare_ties"))).toBe(true);
    expect(backend.canMergePieces(query("dare_ties", HUGE))).toBe(true);
    expect(backend.canMergePieces(query("ties"))).toBe(false);
    expect(backend.pieceElements).toBe(PIECE_ELEMENTS);
  });
});

const gpu = await openTestRuntime();
if (gpu) opened.push(gpu);

describe.skipIf(!gpu)("the WebGPU backend, alone and before wasm", () => {
  it("alone, takes pieces only within its u32 element indices", () => {
    expect(gpu!.label).toMatch(/^webgpu \(.+\)$/);
    expect(gpu!.canMergePieces(query("dare_ties"))).toBe(true);
    expect(gpu!.canMergePieces(query("dare_ties", HUGE))).toBe(false);
    expect(gpu!.canMergePieces(query("ties"))).toBe(false);
    expect(gpu!.pieceElements).toBe(GPU_PIECE_ELEMENTS);
  });

  it("--backend webgpu offers each tensor to the GPU, then to wasm, which takes every piece", async () => {
    if (!requireHardware) vi.stubEnv("HUBMERGE_GPU_ALLOW_SOFTWARE", "1");
    try {
      const backend = await open("webgpu", 2);
      expect(backend.label).toMatch(/^webgpu \(.+\) \+ wasm \(2 threads\)$/);
      await mergesLikeTheReference(backend);
      expect(backend.canMergePieces(query("dare_ties", HUGE))).toBe(true);
      expect(backend.pieceElements).toBe(GPU_PIECE_ELEMENTS);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
