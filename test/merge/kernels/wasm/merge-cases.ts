/**
 * Random merge cases for comparing the fast path with the reference: tensors of random shapes and
 * dtypes whose values mix ordinary weights, small deltas, duplicates, NaN, ±Inf, ±0 and
 * subnormals; random method parameters. The reference side runs exactly what the executor does:
 * decode to f32, method.merge, encode.
 */
import fc from "fast-check";
import { decodeToF32, encodeFromF32, type FloatDType } from "../../../../src/safetensors/dtype.js";
import { methodRegistry } from "../../../../src/merge/methods/registry.js";
import type { TensorMergeArgs } from "../../../../src/merge/kernels/request.js";
import type { TensorRecipe } from "../../../../src/merge/plan/types.js";
import type { DareRescale, MergeInput, ParamValue } from "../../../../src/merge/types.js";

export const DTYPES: readonly FloatDType[] = ["BF16", "F16", "F32"];

export interface MergeCase {
  method: string;
  shape: number[];
  baseDtype: FloatDType;
  outDtype: FloatDType;
  models: { model: string; dtype: FloatDType; params: Record<string, ParamValue> }[];
  global: Record<string, ParamValue>;
  seed: bigint;
  dareRescale: DareRescale;
  tensorName: string;
  /** Seed of the values. */
  dataSeed: number;
  /** Share of special values (NaN, Inf, zeros, subnormals), 0..1. */
  special: number;
}

/** xorshift32: fast, deterministic values for large tensors. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

const SPECIALS = [NaN, -NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e-42, 6e-8, -5.9e-8, 65504, 70000, 1e-45];

function specialValue(next: () => number): number {
  const bits = new Uint32Array(1);
  if (next() < 0.15) {
    bits[0] = 0x7f800001 + Math.floor(next() * 0x7fffff) + (next() < 0.5 ? 0x80000000 : 0); // NaN payloads
    return new Float32Array(bits.buffer)[0]!;
  }
  return SPECIALS[Math.floor(next() * SPECIALS.length)]!;
}

/** f32 values of one input: the base, or base plus a small delta, with special values mixed in. */
function values(count: number, seed: number, special: number, base?: Float32Array): Float32Array {
  const next = random(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < special) out[i] = specialValue(next);
    else if (base && roll < special + 0.1)
      out[i] = base[i]!; // zero delta
    else if (base) out[i] = base[i]! + (next() - 0.5) * 0.01 * (next() < 0.05 ? 1000 : 1);
    else out[i] = (next() - 0.5) * 0.2 * (next() < 0.05 ? 100 : 1);
  }
  return out;
}

export interface CaseTensors {
  base?: { bytes: Uint8Array; dtype: FloatDType };
  inputs: { model: string; bytes: Uint8Array; dtype: FloatDType; params: Record<string, ParamValue> }[];
}

export function caseTensors(c: MergeCase): CaseTensors {
  const count = c.shape.reduce((a, b) => a * b, 1);
  const hasBase = c.method !== "linear";
  const baseValues = values(count, c.dataSeed, c.special);
  const base = hasBase ? { bytes: encodeFromF32(baseValues, c.baseDtype), dtype: c.baseDtype } : undefined;
  const inputs = c.models.map((m, i) => ({
    model: m.model,
    dtype: m.dtype,
    params: m.params,
    bytes: encodeFromF32(values(count, c.dataSeed + 7919 * (i + 1), c.special, baseValues), m.dtype),
  }));
  return { base, inputs };
}

export function recipeOf(c: MergeCase): TensorRecipe {
  return {
    name: c.tensorName,
    sourceTensorName: c.tensorName,
    shape: c.shape,
    dtype: c.outDtype,
    action: "merge",
    base: c.method === "linear" ? undefined : { model: "org/base", tensor: c.tensorName, params: {} },
    inputs: c.models.map((m) => ({ model: m.model, tensor: c.tensorName, params: m.params })),
    global: c.global,
  };
}

export function fastArgs(c: MergeCase, tensors: CaseTensors): TensorMergeArgs {
  return {
    recipe: recipeOf(c),
    method: methodRegistry.get(c.method)!,
    base: tensors.base,
    inputs: tensors.inputs,
    global: c.global,
    seed: c.seed,
    dareRescale: c.dareRescale,
    tensorName: c.tensorName,
  };
}

/** What the executor produces with the reference: decode, merge, encode. */
export function referenceBytes(c: MergeCase, tensors: CaseTensors): Uint8Array {
  const toInput = (model: string, t: { bytes: Uint8Array; dtype: FloatDType }, params = {}): MergeInput => ({
    model,
    data: decodeToF32(t.bytes, t.dtype),
    shape: c.shape,
    params,
  });
  const merged = methodRegistry.get(c.method)!.merge({
    tensorName: c.tensorName,
    sourceTensorName: c.tensorName,
    shape: c.shape,
    base: tensors.base ? toInput("org/base", tensors.base) : undefined,
    inputs: tensors.inputs.map((t) => toInput(t.model, t, t.params)),
    global: c.global,
    seed: c.seed,
    dareRescale: c.dareRescale,
    warn: () => undefined,
  });
  return encodeFromF32(merged, c.outDtype);
}

/**
 * 1e-9 keeps nothing (round(d·2²⁴) = 0, ⌊d·n⌋ = 0): the kernels' empty-mask path. Density 0 itself
 * is outside density's range (0, 1], which the reference refuses as the manifest does.
 */
const density = fc.oneof(fc.constant(1e-9), fc.constant(1), fc.double({ min: 0.01, max: 0.99, noNaN: true }));
const weight = fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: -1, max: 2, noNaN: true }));

function modelParams(method: string): fc.Arbitrary<Record<string, ParamValue>> {
  if (method === "nearswap" || method === "sce") return fc.constant({}); // global parameters only
  return fc.record({
    weight,
    density,
    ...(method.startsWith("breadcrumbs") ? { gamma: fc.double({ min: 0, max: 0.3, noNaN: true }) } : {}),
  });
}

/** Shapes whose sizes cross SIMD widths, blocks (1024) and the small test windows and chunks. */
const shape = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 3 }),
  fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 })).map(([a, b]) => [a, b]),
  fc.integer({ min: 1000, max: 5000 }).map((n) => [n]),
);

/**
 * NearSwap's t: 0 (keep the base), distances around the deltas' size (0.005), below the 1e-6
 * floor, and large ones (take the other model nearly everywhere).
 */
const nearswapT = fc.oneof(
  fc.constantFrom(0, 1e-7, 1e-4, 0.005, 1, 1e6),
  fc.double({ min: 0, max: 0.05, noNaN: true }),
);

/**
 * SCE's select_topk: 1 (no select), 0 (zero every task vector), a fraction that keeps nothing,
 * and fractions in between; int8_mask either way (it changes nothing).
 */
const selectTopK = fc.oneof(fc.constantFrom(0, 1, 1e-9, 0.3), fc.double({ min: 0, max: 1, noNaN: true }));

function globalParams(method: string): fc.Arbitrary<Record<string, ParamValue>> {
  if (method === "nearswap") return fc.record({ t: nearswapT });
  if (method === "sce") return fc.record({ select_topk: selectTopK, int8_mask: fc.boolean() });
  return fc.record(
    {
      normalize: fc.boolean(),
      rescale: fc.boolean(),
      lambda: fc.oneof(fc.constant(1), fc.double({ min: -2, max: 2, noNaN: true })),
    },
    { requiredKeys: method === "linear" ? ["normalize"] : [] },
  );
}

export function mergeCase(method: string, options: { maxModels?: number } = {}): fc.Arbitrary<MergeCase> {
  return fc.record({
    method: fc.constant(method),
    shape,
    baseDtype: fc.constantFrom(...DTYPES),
    outDtype: fc.constantFrom(...DTYPES),
    models: fc.array(
      fc.record({
        model: fc.constantFrom("org/math-ft", "org/code-ft", "me/chat@abc123", "é/ü"),
        dtype: fc.constantFrom(...DTYPES),
        params: modelParams(method),
      }),
      { minLength: 1, maxLength: method === "nearswap" ? 1 : (options.maxModels ?? 4) },
    ),
    global: globalParams(method),
    seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    dareRescale: fc.constant<DareRescale>("paper"),
    tensorName: fc.constantFrom("model.layers.0.mlp.up_proj.weight", "model.norm.weight", "lm_head.weight"),
    dataSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    special: fc.oneof(fc.constant(0), fc.constant(0.02), fc.double({ min: 0, max: 0.5, noNaN: true })),
  });
}

/** Index and bytes of the first element where two encodings differ, for failure messages. */
export function firstDifference(a: Uint8Array, b: Uint8Array, size: number): string | undefined {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const e = Math.floor(i / size);
    const hex = (x: Uint8Array) =>
      [...x.subarray(e * size, e * size + size)]
        .reverse()
        .map((v) => v.toString(16).padStart(2, "0"))
        .join("");
    return `element ${e}: ${hex(a)} vs ${hex(b)}`;
  }
  return undefined;
}
