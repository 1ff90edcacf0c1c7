import { afterAll, describe, expect, it, vi } from "vitest";
import type { KernelBackend } from "../../../../src/merge/kernels/backend.js";
import { REDUCTION_BLOCK } from "../../../../src/merge/kernels/reference/reductions.js";
import { openWasmBackend } from "../../../../src/merge/kernels/wasm/backend.js";
import { SceJob } from "../../../../src/merge/kernels/wasm/sce-job.js";
import { sceWeights } from "../../../../src/merge/methods/sce.js";
import { decodeToF32, type FloatDType } from "../../../../src/safetensors/dtype.js";
import { checkExplicit, explicitCase, f32FromBits, xorshift } from "../explicit-cases.js";
import { fastArgs } from "./merge-cases.js";

/**
 * Configurations that cut the reduction blocks differently: one thread with default windows and
 * chunks (a chunk per block); three threads whose small windows and chunks split every block into
 * several chunks and several windows (the partial sums are carried across both); two threads with
 * the result written over an input.
 */
const CONFIGS: [string, KernelBackend][] = [
  ["1 thread, default windows", openWasmBackend({ threads: 1 })],
  [
    "3 threads, windows of 50,000, chunks of 20,000",
    openWasmBackend({ threads: 3, windowElements: 50_000, chunkElements: 20_000 }),
  ],
  [
    "2 threads, windows of 4,096, chunks of 1,000",
    openWasmBackend({ threads: 2, windowElements: 4096, chunkElements: 1000 }),
  ],
];
afterAll(() => Promise.all(CONFIGS.map(([, backend]) => backend.close())));

/** Base weights and fine-tunes a small delta away (a tenth unchanged), optionally with specials. */
function tensors(count: number, models: number, seed: number, special = 0): [Float32Array, Float32Array[]] {
  const next = xorshift(seed);
  const specials = f32FromBits([0x7fc00000, 0xffc01234, 0x7f800000, 0xff800000, 0x80000000, 0x00000001]);
  const base = Float32Array.from({ length: count }, () => (next() - 0.5) * 0.1);
  const tuned = Array.from({ length: models }, () =>
    base.map((x) => {
      const roll = next();
      if (roll < special) return specials[Math.floor(next() * specials.length)]!;
      return roll < special + 0.1 ? x : x + (next() - 0.5) * 0.004 * (next() < 0.02 ? 100 : 1);
    }),
  );
  return [base, tuned];
}

const SIZES = [1, 37, 4099, 2 * REDUCTION_BLOCK + 777];
const TOPK = [1, 0.3, 0, 1e-9, 0.9999];

describe("sce on wasm gives the reference's bytes", () => {
  for (const [name, backend] of CONFIGS) {
    it.each(SIZES)(`${name}: %s elements, select_topk 1, 0.3, 0, 1e-9, 0.9999, 1 to 4 models`, async (n) => {
      for (const [i, topk] of TOPK.entries()) {
        const [base, models] = tensors(n, 1 + (i % 4), n + i);
        const dtypes: FloatDType[] = ["BF16", "F32", "F16", "BF16"];
        const c = explicitCase("sce", base, models, {
          global: { select_topk: topk },
          baseDtype: "BF16",
          modelDtypes: dtypes,
          outDtype: i % 2 === 0 ? "F32" : "BF16",
        });
        await checkExplicit(backend, c, `${n} elements, select_topk ${topk}`);
      }
    });
  }

  it.each(CONFIGS)(
    "%s: NaN, ±Inf, −0 and subnormals in the task vectors (NaN weights)",
    async (_name, backend) => {
      for (const [models, special] of [
        [2, 0.001],
        [3, 0.2],
        [1, 0.5],
      ] as const) {
        const [base, tuned] = tensors(REDUCTION_BLOCK + 4321, models, 7 * models, special);
        for (const topk of [1, 0.5]) {
          const c = explicitCase("sce", base, tuned, { global: { select_topk: topk } });
          await checkExplicit(backend, c, `${models} models, ${special} specials, select_topk ${topk}`);
        }
      }
    },
  );

  it.each(CONFIGS)("%s: all-zero task vectors, where every weight is 1/N", async (_name, backend) => {
    const [base] = tensors(3000, 1, 5);
    const same = [base.slice(), base.slice(), base.slice()];
    expect(sceWeights(same.map((m) => m.map((x, e) => x - base[e]!)))).toEqual(
      Array(3).fill(Math.fround(1 / 3)),
    );
    for (const topk of [1, 0.5, 0]) {
      await checkExplicit(
        backend,
        explicitCase("sce", base, same, { global: { select_topk: topk } }),
        `topk ${topk}`,
      );
    }
  });

  it.each(CONFIGS)(
    "%s: the variance cut inside a run of equal variances (first in index order)",
    async (_name, backend) => {
      // Variances take three values, a third of the positions each: the top 3/4 of the non-zero
      // ones take all of the largest and half of the middle run, which straddles the cut.
      const n = 3 * 20_011;
      const base = new Float32Array(n);
      const model = Float32Array.from({ length: n }, (_, e) => 0.25 * (e % 3));
      const countEqual = vi.spyOn(
        SceJob.prototype as unknown as { countEqual(): Promise<void> },
        "countEqual",
      );
      try {
        const c = explicitCase("sce", base, [model, new Float32Array(n)], { global: { select_topk: 0.75 } });
        await checkExplicit(backend, c, "straddled cut");
        expect(countEqual).toHaveBeenCalledTimes(1);
      } finally {
        countEqual.mockRestore();
      }
    },
  );

  it("one model: no variance anywhere, so any select_topk below 1 zeroes the task vector", async () => {
    const backend = CONFIGS[2]![1];
    const [base, [model]] = tensors(999, 1, 3);
    const c = explicitCase("sce", base, [model!], { global: { select_topk: 0.5 } });
    await checkExplicit(backend, c, "one model");
    // The merge is θ₀ + 0: the base's bytes, with −0 turned into +0.
    const out = decodeToF32((await backend.tryMerge(fastArgs(c.c, c.tensors)))!, "F32");
    expect(Array.from(out)).toEqual(Array.from(base, (x) => x + 0));
  });
});
