/**
 * The GPU byte-equality checks, as plain async functions that throw on the first difference: the
 * vitest files run them on whatever adapter there is (llvmpipe in CI), and device-check.ts runs
 * the same ones on a real GPU without vitest (scripts/gpu-check.sh).
 */
import fc from "fast-check";
import { binaryOnGpu, convertOnGpu, uniformsOnGpu } from "../../../support/gpu-primitives.js";
import type { GpuContext } from "../../../../src/merge/kernels/webgpu/gpu-context.js";
import type { GpuBackend } from "../../../../src/merge/kernels/webgpu/backend.js";
import { ACCELERATED_METHODS } from "../../../../src/merge/methods/registry.js";
import { dareStream } from "../../../../src/merge/rng/dare-stream.js";
import { fillUniform24 } from "../../../../src/merge/rng/philox.js";
import {
  DTYPE_SIZE,
  decodeToF32,
  encodeFromF32,
  type FloatDType,
} from "../../../../src/safetensors/dtype.js";
import {
  caseTensors,
  fastArgs,
  firstDifference,
  mergeCase,
  referenceBytes,
  type MergeCase,
} from "../wasm/merge-cases.js";

/** The accelerated methods the GPU runs: all but sce (wasm only; see merge-request.ts). */
export const GPU_METHODS: readonly string[] = ACCELERATED_METHODS.filter((method) => method !== "sce");

/** What the TypeScript reference computes: f32(a op b) through f64, as V8 does on x86-64. */
export const REFERENCE_OPS = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
} as const;
export type Op = keyof typeof REFERENCE_OPS;
export const OPS = Object.keys(REFERENCE_OPS) as Op[];

const hex = (x: number | undefined) => (x ?? 0).toString(16).padStart(8, "0");
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function fail(message: string): never {
  throw new Error(message);
}

/** Index of the first differing 32-bit word, or -1. */
export function firstWordDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length === b.length && bytesOf(a).equals(bytesOf(b))) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}

function expectedOp(op: Op, a: Uint32Array, b: Uint32Array): Uint32Array {
  const fa = new Float32Array(a.buffer, a.byteOffset, a.length);
  const fb = new Float32Array(b.buffer, b.byteOffset, b.length);
  const out = new Float32Array(a.length);
  const fn = REFERENCE_OPS[op];
  for (let i = 0; i < a.length; i++) out[i] = fn(fa[i]!, fb[i]!);
  return new Uint32Array(out.buffer);
}

export async function checkOp(context: GpuContext, op: Op, a: Uint32Array, b: Uint32Array): Promise<void> {
  const actual = await binaryOnGpu(context, op, a, b);
  const want = expectedOp(op, a, b);
  const at = firstWordDifference(actual, want);
  if (at >= 0) fail(`${hex(a[at])} ${op} ${hex(b[at])}: GPU ${hex(actual[at])}, reference ${hex(want[at])}`);
}

/** Zeros, infinities, NaNs of both signs and several payloads, subnormals, the ends of every range. */
const SPECIAL_BITS = [
  0x00000000, 0x00000001, 0x00000002, 0x00000003, 0x007fffff, 0x00400000, 0x00000fff, 0x00800000, 0x00800001,
  0x00ffffff, 0x01000000, 0x0c000000, 0x33800000, 0x3f7fffff, 0x3f800000, 0x3f800001, 0x3fc00000, 0x40000000,
  0x40490fdb, 0x4b800000, 0x4b7fffff, 0x5f000000, 0x7e800000, 0x7f000000, 0x7f7ffffe, 0x7f7fffff, 0x7f800000,
  0x7f800001, 0x7fc00000, 0x7fc00001, 0x7fffffff, 0x7fa5a5a5, 0x3a83126f, 0x3dcccccd, 0x1f800000, 0x20000000,
];
const SPECIALS = [...SPECIAL_BITS, ...SPECIAL_BITS.map((b) => (b | 0x80000000) >>> 0)];

export async function checkSpecialPairs(context: GpuContext, op: Op): Promise<void> {
  const n = SPECIALS.length;
  const a = new Uint32Array(n * n);
  const b = new Uint32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a[i * n + j] = SPECIALS[i]!;
      b[i * n + j] = SPECIALS[j]!;
    }
  }
  await checkOp(context, op, a, b);
}

/** Random bit patterns biased towards close exponents (cancellation, ties) and tiny values. */
export function randomPairs(seed: number, count: number): [Uint32Array, Uint32Array] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const a = new Uint32Array(count);
  const b = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    a[i] = next();
    const mode = next() % 4;
    if (mode === 0) b[i] = (a[i]! & 0xff800000) | (next() & 0x7fffff);
    else if (mode === 1) b[i] = ((a[i]! ^ 0x80000000) + (next() % 64) - 32) >>> 0;
    else if (mode === 2) b[i] = next() & 0x83ffffff;
    else b[i] = next();
  }
  return [a, b];
}

export async function checkRandomPairs(
  context: GpuContext,
  op: Op,
  runs: number,
  count = 1 << 16,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
      const [a, b] = randomPairs(seed, count);
      await checkOp(context, op, a, b);
    }),
    { numRuns: runs },
  );
}

/** Ties to even in both directions, products in the subnormal range, half-ulp quotients. */
export async function checkRoundingEdges(context: GpuContext): Promise<void> {
  const a = new Uint32Array([
    0x3f800000, 0x3f800001, 0x00800000, 0x20000000, 0x00000003, 0x3f800003, 0x00ffffff,
  ]);
  const b = new Uint32Array([
    0x33800000, 0x33800000, 0x3f000000, 0x1f800000, 0x3f000000, 0x40000000, 0x40000000,
  ]);
  for (const op of OPS) await checkOp(context, op, a, b);
}

/** Every 16-bit pattern, little-endian, plus one element so that the count is odd. */
function allHalves(): Uint8Array {
  const halves = new Uint16Array(65537);
  for (let i = 0; i < 65536; i++) halves[i] = i;
  halves[65536] = 0x7c01;
  return new Uint8Array(halves.buffer);
}

/** f32 patterns at and around every bf16/f16 rounding boundary, plus a sweep of all exponents. */
function f32Boundaries(): Uint8Array {
  const bits: number[] = [];
  const f16 = new Uint32Array(decodeToF32(allHalves(), "F16").buffer);
  for (let h = 0; h < 65536; h++) {
    const hi = h << 16;
    bits.push(hi, hi + 0x7fff, hi + 0x8000, hi + 0x8001);
    const f = f16[h]!;
    bits.push(f + 1, f - 1, f + 0x1000, f + 0x0fff, f + 0x1001);
  }
  const [sweep] = randomPairs(0x2545f491, 1 << 16);
  bits.push(...sweep);
  return new Uint8Array(Uint32Array.from(bits, (b) => b >>> 0).buffer);
}

export const CONVERSIONS: readonly [FloatDType, FloatDType][] = [
  ["BF16", "F32"],
  ["F16", "F32"],
  ["BF16", "F16"],
  ["F16", "BF16"],
  ["BF16", "BF16"],
  ["F32", "BF16"],
  ["F32", "F16"],
  ["F32", "F32"],
];

async function checkConvertBytes(context: GpuContext, input: Uint8Array, from: FloatDType, to: FloatDType) {
  const actual = await convertOnGpu(context, input, from, to);
  const expected = encodeFromF32(decodeToF32(input, from), to);
  const at = firstDifference(actual, expected, DTYPE_SIZE[to]);
  if (at) fail(`${from} → ${to}: ${at}`);
}

export async function checkConversion(context: GpuContext, from: FloatDType, to: FloatDType): Promise<void> {
  await checkConvertBytes(context, from === "F32" ? f32Boundaries() : allHalves(), from, to);
}

export async function checkPartialQuads(context: GpuContext): Promise<void> {
  const values = new Float32Array([1.5, -0, NaN, 65520, 1e-40, -3, 7, Infinity, 2e-8]);
  for (let n = 1; n <= values.length; n++) {
    for (const to of ["BF16", "F16", "F32"] as const) {
      await checkConvertBytes(context, new Uint8Array(values.buffer, 0, n * 4), "F32", to);
    }
  }
}

export async function checkPhiloxVectors(context: GpuContext): Promise<void> {
  const source = dareStream(0x0123456789abcdefn, "org/math-ft", "model.layers.0.mlp.down_proj.weight");
  const first = await uniformsOnGpu(context, source.key, source.stream, 0, 8);
  const want = [0x37e880, 0xbd8c0b, 0x6bc64f, 0xf2dd8e, 0x5fcd30, 0x7e36ab, 0xa6cd7e, 0xe8491b];
  if (first.some((u, i) => u !== want[i])) fail(`Philox vector: ${[...first].map(hex).join(" ")}`);
  const far = await uniformsOnGpu(context, source.key, source.stream, 2 ** 34, 4);
  const wantFar = [0xe5da48, 0x999948, 0xa0162c];
  if (far.subarray(1).some((u, i) => u !== wantFar[i]))
    fail(`Philox vector at 2^34: ${[...far].map(hex).join(" ")}`);
}

export async function checkPhiloxRandom(context: GpuContext, runs: number): Promise<void> {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(u32, u32),
      fc.tuple(u32, u32),
      fc.integer({ min: 0, max: 2 ** 28 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 5000 }),
      async (key, stream, block, high, length) => {
        const start = (high * 2 ** 32 + block) * 4;
        const expected = new Uint32Array(length);
        fillUniform24(expected, start, key, stream);
        const actual = await uniformsOnGpu(context, key, stream, start, length);
        const at = firstWordDifference(actual, expected);
        if (at >= 0) fail(`uniform ${start + at}: GPU ${hex(actual[at])}, reference ${hex(expected[at])}`);
      },
    ),
    { numRuns: runs },
  );
}

/** Compares one merge case; returns whether the GPU took it (cases the reference rejects do not count). */
export async function checkMergeCase(c: MergeCase, runtime: GpuBackend): Promise<boolean> {
  const tensors = caseTensors(c);
  let expected: Uint8Array;
  try {
    expected = referenceBytes(c, tensors);
  } catch {
    return false;
  }
  const actual = await runtime.tryMerge(fastArgs(c, tensors));
  if (!actual) return false;
  const at = firstDifference(actual, expected, DTYPE_SIZE[c.outDtype]);
  if (at) fail(`${c.method} ${JSON.stringify(c.shape)} ${c.baseDtype}→${c.outDtype}: ${at}`);
  return true;
}

/**
 * A case merged on the GPU in pieces of `pieceElements` (the executor's streaming), each piece's
 * inputs cut out of the whole; the pieces put together must be the reference's bytes.
 */
export async function checkPiecesCase(
  c: MergeCase,
  runtime: GpuBackend,
  pieceElements: number,
): Promise<number> {
  const tensors = caseTensors(c);
  const expected = referenceBytes(c, tensors);
  const total = c.shape.reduce((a, b) => a * b, 1);
  const out = DTYPE_SIZE[c.outDtype];
  const actual = new Uint8Array(total * out);
  let pieces = 0;
  for (let offset = 0; offset < total; offset += pieceElements) {
    const count = Math.min(pieceElements, total - offset);
    const slice = <T extends { bytes: Uint8Array; dtype: FloatDType }>(t: T): T => {
      const size = DTYPE_SIZE[t.dtype];
      return { ...t, bytes: t.bytes.slice(offset * size, (offset + count) * size) };
    };
    const piece = { base: tensors.base && slice(tensors.base), inputs: tensors.inputs.map(slice) };
    const bytes = await runtime.tryMerge({ ...fastArgs(c, piece), elements: { offset, count } });
    if (!bytes) fail(`${c.method}: the GPU declined the piece at ${offset}`);
    actual.set(bytes!, offset * out);
    pieces++;
  }
  const at = firstDifference(actual, expected, out);
  if (at) fail(`${c.method} in pieces of ${pieceElements}: ${at}`);
  return pieces;
}

/** Random cases of one method (fast-check); returns how many the GPU took. */
export async function checkMethod(runtime: GpuBackend, method: string, runs: number): Promise<number> {
  let handled = 0;
  await fc.assert(
    fc.asyncProperty(mergeCase(method), async (c) => {
      if (await checkMergeCase(c, runtime)) handled++;
    }),
    { numRuns: runs },
  );
  return handled;
}

/** A magnitude case where elements equal to the cut (zero deltas) straddle it. */
export function straddleCase(method: string): MergeCase {
  return {
    ...fc.sample(mergeCase(method), { numRuns: 1, seed: 11 })[0]!,
    shape: [40, 97],
    baseDtype: "BF16",
    outDtype: "BF16",
    models: [
      { model: "org/a", dtype: "BF16", params: { weight: 0.7, density: 0.95, gamma: 0.01 } },
      { model: "org/b", dtype: "F32", params: { weight: 0.5, density: 0.97, gamma: 0.02 } },
    ],
    global: { rescale: false },
    special: 0,
  };
}

/** A tensor of `count` elements (several chunks), two fine-tunes of different dtypes. */
export function largeCase(method: string, count: number): MergeCase {
  return {
    ...fc.sample(mergeCase(method), { numRuns: 1, seed: 7 })[0]!,
    shape: [count],
    models: (
      [
        { model: "org/a", dtype: "BF16", params: { weight: 0.7, density: 0.3 } },
        { model: "org/b", dtype: "F16", params: { weight: 0.4, density: 0.55 } },
      ] satisfies MergeCase["models"]
    ).slice(0, method === "nearswap" ? 1 : 2),
    global:
      method === "linear"
        ? { normalize: true }
        : method === "nearswap"
          ? { t: 0.004 }
          : { rescale: method === "dare_ties" },
    special: 0.01,
  };
}
