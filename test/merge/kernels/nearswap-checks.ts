/**
 * NearSwap's byte-equality checks for any backend (wasm and WebGPU run the same ones): every pair
 * of special values for several t, distances on both sides of the 1e-6 floor, random bit patterns
 * (reciprocals of every kind of distance), and bf16/f16 inputs and outputs.
 */
import type { KernelBackend } from "../../../src/merge/kernels/backend.js";
import type { FloatDType } from "../../../src/safetensors/dtype.js";
import { checkExplicit, explicitCase, f32FromBits, specialPairs, xorshift } from "./explicit-cases.js";

/** 0 and −0 (keep the base), below and at the floor, about a delta, 1, and huge. */
export const NEARSWAP_T = [0, -0, 1e-7, 1e-6, 0.004, 1, 1e6, 3e38];

export async function checkSpecialPairs(backend: KernelBackend, t: number): Promise<void> {
  const [base, other] = specialPairs();
  await checkExplicit(backend, explicitCase("nearswap", base, [other], { global: { t } }), `t = ${t}`);
}

/** θ₁ = θ₀ ± k ulps of θ₀ for k around the floor (1e-6 is 8.4 ulps at 1, 2.1 at 4). */
export async function checkFloorDistances(backend: KernelBackend): Promise<void> {
  const base: number[] = [];
  const other: number[] = [];
  for (const start of [0x3f800000, 0x40800000, 0x3f000000, 0x35800000, 0x00000010]) {
    for (let k = -12; k <= 12; k++) {
      base.push(start, (start | 0x80000000) >>> 0);
      other.push(start + k, ((start + k) | 0x80000000) >>> 0);
    }
  }
  for (const t of [1e-6, 5e-7, 2e-6]) {
    const c = explicitCase("nearswap", f32FromBits(base), [f32FromBits(other)], { global: { t } });
    await checkExplicit(backend, c, `floor distances, t = ${t}`);
  }
}

/**
 * Random patterns: θ₀ any finite-exponent value, θ₁ a few ulps to a few binades away, so that the
 * reciprocals round in every way and the weights land inside (0, 1).
 */
export async function checkRandomDistances(backend: KernelBackend, seed: number, count = 1 << 16) {
  const next = xorshift(seed);
  const base = new Uint32Array(count);
  const other = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const bits = ((0x6c + Math.floor(next() * 0x16)) << 23) | Math.floor(next() * 0x800000);
    base[i] = (next() < 0.5 ? bits | 0x80000000 : bits) >>> 0;
    const step = Math.floor(next() * 3) === 0 ? Math.floor(next() * 64) : Math.floor(next() * 0x1000000);
    other[i] = (base[i]! + (next() < 0.5 ? step : -step)) >>> 0;
  }
  const values = (bits: Uint32Array) => new Float32Array(bits.buffer);
  for (const t of [1e-4, 0.003, 0.05]) {
    const c = explicitCase("nearswap", values(base), [values(other)], { global: { t } });
    await checkExplicit(backend, c, `random distances (seed ${seed}), t = ${t}`);
  }
}

export const DTYPE_MIXES: [FloatDType, FloatDType, FloatDType][] = [
  ["BF16", "BF16", "BF16"],
  ["F16", "BF16", "F32"],
  ["F32", "F16", "BF16"],
  ["BF16", "F32", "F16"],
];

/** Smooth weights near a base, in bf16/f16 inputs and outputs (rounding on the way out). */
export async function checkDtypes(
  backend: KernelBackend,
  [base, model, out]: [FloatDType, FloatDType, FloatDType],
) {
  const next = xorshift(77);
  const n = 5003;
  const a = Float32Array.from({ length: n }, () => (next() - 0.5) * 0.2);
  const b = a.map((x) => x + (next() - 0.5) * 0.02);
  const c = explicitCase("nearswap", a, [b], {
    global: { t: 0.004 },
    baseDtype: base,
    modelDtypes: [model],
    outDtype: out,
  });
  await checkExplicit(backend, c, `${base} + ${model} → ${out}`);
}
