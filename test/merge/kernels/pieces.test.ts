import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { canMergePieces, kernelRequest, PIECE_ALIGNMENT } from "../../../src/merge/kernels/request.js";
import { openWasmBackend } from "../../../src/merge/kernels/wasm/backend.js";
import { gpuMergeRequest } from "../../../src/merge/kernels/webgpu/merge-request.js";
import { DTYPE_SIZE } from "../../../src/safetensors/dtype.js";
import {
  caseTensors,
  fastArgs,
  firstDifference,
  mergeCase,
  referenceBytes,
  type CaseTensors,
  type MergeCase,
} from "./wasm/merge-cases.js";

/** Methods whose every output element depends only on the same element of the inputs. */
const ELEMENTWISE = ["linear", "task_arithmetic", "dare_linear", "dare_ties", "nearswap"];
/** Methods with a magnitude cut or a variance select over the whole tensor: never in pieces. */
const WHOLE_TENSOR = ["ties", "breadcrumbs", "breadcrumbs_ties", "sce"];

const runtime = openWasmBackend({ threads: 2, windowElements: 96, chunkElements: 32 });
afterAll(() => runtime.close());

/** A piece's elements of every input, in shared memory as the executor's read buffers hold them. */
function pieceOf(tensors: CaseTensors, offset: number, count: number): CaseTensors {
  const slice = <T extends { bytes: Uint8Array; dtype: keyof typeof DTYPE_SIZE }>(t: T): T => {
    const size = DTYPE_SIZE[t.dtype];
    const bytes = new Uint8Array(new SharedArrayBuffer(count * size));
    bytes.set(t.bytes.subarray(offset * size, (offset + count) * size));
    return { ...t, bytes };
  };
  return { base: tensors.base && slice(tensors.base), inputs: tensors.inputs.map(slice) };
}

/** Cut points: aligned offsets, the last piece usually partial. */
const cuts = (count: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, Math.floor((count - 1) / PIECE_ALIGNMENT)) }), {
      maxLength: 4,
    })
    .map((steps) => [
      0,
      ...steps
        .map((s) => s * PIECE_ALIGNMENT)
        .filter((o) => o < count)
        .sort((a, b) => a - b),
    ]);

describe("merging a tensor in pieces", () => {
  for (const method of ELEMENTWISE) {
    it(`${method}: the pieces put together are the reference's bytes`, async () => {
      let handled = 0;
      const cases = mergeCase(method).filter((c) => c.shape.reduce((a, b) => a * b, 1) > PIECE_ALIGNMENT);
      await fc.assert(
        fc.asyncProperty(
          cases.chain((c) => fc.tuple(fc.constant(c), cuts(c.shape.reduce((a, b) => a * b, 1)))),
          async ([c, offsets]) => {
            const tensors = caseTensors(c);
            let expected: Uint8Array;
            try {
              expected = referenceBytes(c, tensors);
            } catch {
              return; // parameters the reference rejects are the reference's to report
            }
            const total = c.shape.reduce((a, b) => a * b, 1);
            const args = fastArgs(c, tensors);
            if (!canMergePieces(args)) return;
            const size = DTYPE_SIZE[c.outDtype];
            const actual = new Uint8Array(total * size);
            for (const [i, offset] of offsets.entries()) {
              const count = (offsets[i + 1] ?? total) - offset;
              const piece = pieceOf(tensors, offset, count);
              const bytes = await runtime.tryMerge({
                ...fastArgs(c, piece),
                consumeInputs: i % 2 === 0,
                elements: { offset, count },
              });
              expect(bytes).toBeDefined();
              actual.set(bytes!, offset * size);
            }
            expect(firstDifference(actual, expected, size)).toBeUndefined();
            handled++;
          },
        ),
        { numRuns: 20 },
      );
      expect(handled).toBeGreaterThan(4);
    });
  }

  const sample = (method: string): MergeCase => ({
    ...fc.sample(mergeCase(method), { numRuns: 1, seed: 5 })[0]!,
    shape: [200],
    models: [{ model: "org/a", dtype: "BF16", params: { weight: 0.5, density: 0.4 } }],
  });

  it.each(WHOLE_TENSOR)("%s needs the whole tensor: no pieces", async (method) => {
    const c = sample(method);
    const tensors = caseTensors(c);
    expect(canMergePieces(fastArgs(c, tensors))).toBe(false);
    const piece = pieceOf(tensors, 0, 96);
    expect(
      await runtime.tryMerge({ ...fastArgs(c, piece), elements: { offset: 0, count: 96 } }),
    ).toBeUndefined();
  });

  it.each([
    ["an offset off the 16-element grid", 8, 96],
    ["a piece past the tensor's end", 160, 48],
    ["an empty piece", 0, 0],
    ["a negative offset", -16, 32],
  ])("declines %s", async (_why, offset, count) => {
    const c = sample("dare_ties");
    const tensors = caseTensors(c);
    const piece = pieceOf(
      tensors,
      Math.max(0, offset),
      Math.max(0, Math.min(count, 200 - Math.max(0, offset))),
    );
    const args = { ...fastArgs(c, piece), elements: { offset, count } };
    expect(await runtime.tryMerge(args)).toBeUndefined();
  });

  it("the WebGPU backend takes pieces within its u32 element indices", () => {
    const c = sample("dare_ties");
    const tensors = caseTensors(c);
    const piece = pieceOf(tensors, 16, 96);
    expect(gpuMergeRequest({ ...fastArgs(c, piece), elements: { offset: 16, count: 96 } })).toMatchObject({
      elementOffset: 16,
      count: 96,
    });
    // A piece past element 2^32 − 2 (the kernels' u32 indices) goes to wasm instead.
    const huge = { ...c, shape: [2 ** 32 + 96] };
    const far = { ...fastArgs(huge, pieceOf(tensors, 0, 96)), elements: { offset: 2 ** 32 - 16, count: 96 } };
    expect(kernelRequest(far)).toBeDefined();
    expect(gpuMergeRequest(far)).toBeUndefined();
  });
});
