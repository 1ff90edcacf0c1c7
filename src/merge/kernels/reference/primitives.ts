/**
 * The reference kernel backend: the primitives the merge methods compose, in plain TypeScript.
 * This file is the specification the WebAssembly and WebGPU backends must reproduce bit for bit:
 *
 * - elementwise arithmetic is f32: every operation is rounded with Math.fround (computing one
 *   +, −, ×, ÷ of two f32 in f64 and rounding once is the correctly rounded f32 result); no fused
 *   multiply-add; scalars (weights, λ, densities) are rounded to f32 before use;
 * - sums over models run in model order, sequentially, starting from +0;
 * - reductions over elements (norms, dot products) are f64 in the blocked order of reductions.ts;
 * - a dropped element becomes +0; NaN and ±Inf otherwise flow through as IEEE 754 says.
 */
import { fillUniform24 } from "../../rng/philox.js";
import type { DareStream } from "../../rng/dare-stream.js";
import { l1NormF64 } from "./reductions.js";
import { rowAscendingRanks } from "./magnitude-select.js";

export { blockedSumF64, dotF64, l1NormF64, sumSquaresF64, REDUCTION_BLOCK } from "./reductions.js";
export {
  breadcrumbsCounts,
  magnitudeOutliersMask,
  magnitudeRankRangeMask,
  magnitudeTopKMask,
  rowAscendingRanks,
} from "./magnitude-select.js";

const f32 = Math.fround;
const UNIFORM_SCALE = 16777216; // 2^24
const UNIFORM_CHUNK = 65536;
/** Norms below this skip L1 rescaling (mergekit's eps). */
export const L1_RESCALE_EPSILON = 1e-7;

function checkSameLength(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/** out[i] = f32(a[i] − b[i]). `out` may alias either input. */
export function subtract(a: Float32Array, b: Float32Array, out: Float32Array): void {
  checkSameLength(a, b, "subtract");
  checkSameLength(a, out, "subtract");
  for (let i = 0; i < a.length; i++) out[i] = f32(a[i]! - b[i]!);
}

/** values[i] = f32(values[i] · f32(factor)). */
export function scaleInPlace(values: Float32Array, factor: number): void {
  const scale = f32(factor);
  for (let i = 0; i < values.length; i++) values[i] = f32(values[i]! * scale);
}

/** values[i] = mask[i] ? values[i] : +0. */
export function applyMask(values: Float32Array, mask: Uint8Array): void {
  checkSameLength(values, mask, "applyMask");
  for (let i = 0; i < values.length; i++) if (mask[i] === 0) values[i] = 0;
}

/**
 * Runs `visit(offset, uniforms)` over consecutive chunks of the 24-bit uniforms of elements
 * [start, start + length) of a DARE stream.
 */
function forEachUniformChunk(
  length: number,
  start: number,
  source: DareStream,
  visit: (offset: number, uniforms: Uint32Array) => void,
): void {
  const buffer = new Uint32Array(Math.min(UNIFORM_CHUNK, length));
  for (let offset = 0; offset < length; offset += buffer.length) {
    const count = Math.min(buffer.length, length - offset);
    const uniforms = count === buffer.length ? buffer : buffer.subarray(0, count);
    fillUniform24(uniforms, start + offset, source.key, source.stream);
    visit(offset, uniforms);
  }
}

/**
 * DARE drop-and-rescale, in place. Element j of `delta` is element `start + j` of the stream:
 * kept iff its u24 < `threshold` (see keepThreshold); a dropped element becomes +0; a kept one
 * stays δ when `divisor` is undefined, else becomes f32(δ / f32(divisor)) (the paper's 1/density).
 */
export function dareSparsify(
  delta: Float32Array,
  start: number,
  source: DareStream,
  threshold: number,
  divisor?: number,
): void {
  const scale = divisor === undefined ? undefined : f32(divisor);
  forEachUniformChunk(delta.length, start, source, (offset, uniforms) => {
    for (let j = 0; j < uniforms.length; j++) {
      const i = offset + j;
      if (uniforms[j]! >= threshold) delta[i] = 0;
      else if (scale !== undefined) delta[i] = f32(delta[i]! / scale);
    }
  });
}

/**
 * mergekit's norm matching after a mask was applied: with before = ‖unmasked‖₁ and
 * after = ‖values‖₁ (both f64, blocked order), when neither is below 1e-7,
 * values[i] = f32(values[i] · f32(before / after)); otherwise values are left as they are.
 */
export function l1Rescale(values: Float32Array, before: number): void {
  const after = l1NormF64(values);
  if (before < L1_RESCALE_EPSILON || after < L1_RESCALE_EPSILON) return;
  scaleInPlace(values, before / after);
}

/** DELLA's per-tensor constants: lo = f32(f32(d) − f32(ε)), span = f32(2 · f32(ε)). */
export function dellaBounds(density: number, epsilon: number): { lo: number; span: number } {
  return { lo: f32(f32(density) - f32(epsilon)), span: f32(2 * f32(epsilon)) };
}

/**
 * DELLA's keep probability of the element of ascending rank `rank` in a row of `rowLength`:
 * r = f32(rank / (rowLength − 1)) (r = 0.5 for rows of one element), p = f32(lo + f32(r · span)).
 */
export function dellaKeepProbability(rank: number, rowLength: number, lo: number, span: number): number {
  const r = rowLength === 1 ? 0.5 : f32(rank / (rowLength - 1));
  return f32(lo + f32(r * span));
}

/**
 * DELLA magnitude-based pruning (MAGPRUNE), in place. Rows are consecutive runs of `rowLength`
 * elements (the last dimension); ranks come from rowAscendingRanks. Element i (stream index i) is
 * kept iff u24 < p · 2^24 (an exact comparison: u24 / 2^24 < p); a dropped element becomes +0;
 * a kept one becomes f32(δ / p) when `rescale`, else stays δ.
 */
export function dellaSparsify(
  delta: Float32Array,
  rowLength: number,
  source: DareStream,
  density: number,
  epsilon: number,
  rescale: boolean,
): void {
  const ranks = new Uint32Array(delta.length);
  rowAscendingRanks(delta, rowLength, ranks);
  const { lo, span } = dellaBounds(density, epsilon);
  forEachUniformChunk(delta.length, 0, source, (offset, uniforms) => {
    for (let j = 0; j < uniforms.length; j++) {
      const i = offset + j;
      const p = dellaKeepProbability(ranks[i]!, rowLength, lo, span);
      if (!(uniforms[j]! < p * UNIFORM_SCALE)) delta[i] = 0;
      else if (rescale) delta[i] = f32(delta[i]! / p);
    }
  });
}

/** sign(x) ∈ {−1, 0, +1}; NaN has no sign (NaN). */
function signOf(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN;
}

/**
 * TIES sign election over the models' weighted deltas: the majority sign s ∈ {+1, −1} per element.
 * - "sum": S = Σᵢ wᵢδᵢ (f32, model order, from +0); s = +1 iff S ≥ 0 (−0 counts as ≥ 0; NaN → −1);
 * - "count": C = Σᵢ sign(wᵢδᵢ) (an exact integer; zeros and NaN count 0); s = +1 iff C ≥ 0.
 */
export function signElection(weightedDeltas: readonly Float32Array[], method: "sum" | "count"): Int8Array {
  const length = weightedDeltas[0]?.length ?? 0;
  for (const values of weightedDeltas) checkSameLength(values, weightedDeltas[0]!, "signElection");
  const totals = new Float64Array(length); // f32 values (sum) or small integers (count)
  for (const values of weightedDeltas) {
    if (method === "sum") {
      for (let i = 0; i < length; i++) totals[i] = f32(totals[i]! + values[i]!);
    } else {
      for (let i = 0; i < length; i++) {
        const v = values[i]!;
        totals[i] = totals[i]! + (v > 0 ? 1 : v < 0 ? -1 : 0);
      }
    }
  }
  const majority = new Int8Array(length);
  for (let i = 0; i < length; i++) majority[i] = totals[i]! >= 0 ? 1 : -1;
  return majority;
}

/**
 * The consensus mix: model i contributes at element e iff sign(wᵢδᵢ[e]) = majority[e] (zeros
 * and NaN never agree). In model order from +0, all f32:
 * mixed[e] = Σ agreeing wᵢδᵢ[e], divisor[e] = Σ agreeing f32(wᵢ).
 */
export function agreeingSum(
  weightedDeltas: readonly Float32Array[],
  weights: readonly number[],
  majority: Int8Array,
  mixed: Float32Array,
  divisor: Float32Array,
): void {
  checkSameLength(weightedDeltas, weights, "agreeingSum");
  checkSameLength(majority, mixed, "agreeingSum");
  checkSameLength(majority, divisor, "agreeingSum");
  mixed.fill(0);
  divisor.fill(0);
  weightedDeltas.forEach((values, model) => {
    checkSameLength(values, majority, "agreeingSum");
    const weight = f32(weights[model]!);
    for (let e = 0; e < values.length; e++) {
      if (signOf(values[e]!) !== majority[e]) continue;
      mixed[e] = f32(mixed[e]! + values[e]!);
      divisor[e] = f32(divisor[e]! + weight);
    }
  });
}

/** acc[i] = f32(acc[i] + f32(f32(weight) · values[i])). */
export function weightedAccumulate(acc: Float32Array, values: Float32Array, weight: number): void {
  checkSameLength(acc, values, "weightedAccumulate");
  const w = f32(weight);
  for (let i = 0; i < acc.length; i++) acc[i] = f32(acc[i]! + f32(w * values[i]!));
}

/** acc[i] = f32(acc[i] + values[i]). */
export function accumulate(acc: Float32Array, values: Float32Array): void {
  checkSameLength(acc, values, "accumulate");
  for (let i = 0; i < acc.length; i++) acc[i] = f32(acc[i]! + values[i]!);
}

/** values[i] = f32(values[i] / divisor[i]) (divisor elementwise) or f32(values[i] / f32(divisor)). */
export function divideInPlace(values: Float32Array, divisor: Float32Array | number): void {
  if (typeof divisor === "number") {
    const d = f32(divisor);
    for (let i = 0; i < values.length; i++) values[i] = f32(values[i]! / d);
    return;
  }
  checkSameLength(values, divisor, "divideInPlace");
  for (let i = 0; i < values.length; i++) values[i] = f32(values[i]! / divisor[i]!);
}

/** out[i] = f32(base[i] + f32(f32(lambda) · values[i])). `out` may alias either input. */
export function addScaled(base: Float32Array, values: Float32Array, lambda: number, out: Float32Array): void {
  checkSameLength(base, values, "addScaled");
  checkSameLength(base, out, "addScaled");
  const l = f32(lambda);
  for (let i = 0; i < out.length; i++) out[i] = f32(base[i]! + f32(l * values[i]!));
}
