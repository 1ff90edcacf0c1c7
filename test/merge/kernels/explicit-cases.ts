/**
 * Merge cases built from explicit values (special bit patterns, ties, all-zero deltas) rather than
 * merge-cases.ts's generated ones, and the check that a backend gives the reference's bytes for
 * them. Plain functions that throw on the first difference, so that the wasm and WebGPU tests (and
 * a device check) share them.
 */
import type { KernelBackend } from "../../../src/merge/kernels/backend.js";
import type { ParamValue } from "../../../src/merge/types.js";
import { DTYPE_SIZE, encodeFromF32, type FloatDType } from "../../../src/safetensors/dtype.js";
import {
  fastArgs,
  firstDifference,
  referenceBytes,
  type CaseTensors,
  type MergeCase,
} from "./wasm/merge-cases.js";

export interface ExplicitCase {
  c: MergeCase;
  tensors: CaseTensors;
}

export interface ExplicitOptions {
  global: Record<string, ParamValue>;
  shape?: number[];
  baseDtype?: FloatDType;
  modelDtypes?: FloatDType[];
  outDtype?: FloatDType;
}

/** A case of `method` over these base and model values (f32, encoded to the given dtypes). */
export function explicitCase(
  method: string,
  base: Float32Array,
  models: readonly Float32Array[],
  options: ExplicitOptions,
): ExplicitCase {
  const baseDtype = options.baseDtype ?? "F32";
  const modelDtypes = models.map((_, i) => options.modelDtypes?.[i] ?? baseDtype);
  const c: MergeCase = {
    method,
    shape: options.shape ?? [base.length],
    baseDtype,
    outDtype: options.outDtype ?? baseDtype,
    models: models.map((_, i) => ({ model: `org/ft-${i}`, dtype: modelDtypes[i]!, params: {} })),
    global: options.global,
    seed: 1n,
    dareRescale: "paper",
    tensorName: "model.layers.0.mlp.up_proj.weight",
    dataSeed: 1,
    special: 0,
  };
  const tensors: CaseTensors = {
    base: { bytes: encodeFromF32(base, baseDtype), dtype: baseDtype },
    inputs: models.map((values, i) => ({
      model: c.models[i]!.model,
      dtype: modelDtypes[i]!,
      params: {},
      bytes: encodeFromF32(values, modelDtypes[i]!),
    })),
  };
  return { c, tensors };
}

/**
 * Merges the case on `backend` and compares with the reference; throws with the first differing
 * element (and `label`) when they differ or when the backend declines the case.
 */
export async function checkExplicit(backend: KernelBackend, { c, tensors }: ExplicitCase, label: string) {
  const expected = referenceBytes(c, tensors);
  const actual = await backend.tryMerge(fastArgs(c, tensors));
  if (!actual) throw new Error(`${label}: ${backend.label} declined the case`);
  const difference = firstDifference(actual, expected, DTYPE_SIZE[c.outDtype]);
  if (difference) throw new Error(`${label}: ${difference} (${backend.label} vs the reference)`);
}

export const f32FromBits = (bits: readonly number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/**
 * Zeros, subnormals, values around 1 and around the 1e-6 floor, the ends of the range, infinities
 * and NaNs (both signs, several payloads, a signalling one).
 */
const SPECIAL_BITS = [
  0x00000000, 0x00000001, 0x00000003, 0x007fffff, 0x00800000, 0x358637bd, 0x358637be, 0x358637bc, 0x3586b7bd,
  0x33d6bf95, 0x3a83126f, 0x3b83126f, 0x3f7fffff, 0x3f800000, 0x3f800001, 0x3f800008, 0x3f800009, 0x40490fdb,
  0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fc00001, 0x7fa5a5a5,
];
export const SPECIALS = [...SPECIAL_BITS, ...SPECIAL_BITS.map((bits) => (bits | 0x80000000) >>> 0)];

/** Every ordered pair of special values: base[i·n + j] = specials[i], other[…] = specials[j]. */
export function specialPairs(): [Float32Array, Float32Array] {
  const n = SPECIALS.length;
  const base: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      base.push(SPECIALS[i]!);
      other.push(SPECIALS[j]!);
    }
  }
  return [f32FromBits(base), f32FromBits(other)];
}

/** xorshift32 values in [0, 1). */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}
