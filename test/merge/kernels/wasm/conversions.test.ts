import { describe, expect, it } from "vitest";
import { decodeToF32, encodeFromF32 } from "../../../../src/safetensors/dtype.js";
import { wasmDecodeToF32, wasmEncodeFromF32 } from "../../../support/wasm-kernels.js";

const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);
const bytesOf = (values: Float32Array | Uint8Array) =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength);
/** Byte equality without vitest diffing a million elements. */
const same = (a: Float32Array | Uint8Array, b: Float32Array | Uint8Array) => bytesOf(a).equals(bytesOf(b));

/** Every 16-bit pattern, as little-endian bytes. */
function allHalfPatterns(): Uint8Array {
  const halves = new Uint16Array(65536);
  for (let i = 0; i < halves.length; i++) halves[i] = i;
  return new Uint8Array(halves.buffer);
}

/**
 * f32 patterns around every bf16 and f16 value: each value, its neighbours, and the exact midpoints
 * (ties) between consecutive representable values, plus a pseudo-random sweep of all exponents.
 */
function boundaryPatterns(): Float32Array {
  const bits = new Uint32Array(65536 * 12 + (1 << 18));
  let n = 0;
  const push = (...patterns: number[]) => patterns.forEach((p) => (bits[n++] = p >>> 0));
  const f16 = bitsOf(decodeToF32(allHalfPatterns(), "F16"));
  for (let h = 0; h < 65536; h++) {
    const hi = h << 16;
    push(hi, hi + 1, hi + 0x7fff, hi + 0x8000, hi + 0x8001, hi + 0xffff);
    const f = f16[h]!;
    push(f, f + 1, f - 1, f + 0x1000, f + 0x0fff, f + 0x1001);
  }
  let state = 0x2545f491;
  for (let i = 0; i < 1 << 18; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    push(state);
  }
  return new Float32Array(bits.buffer);
}

describe("wasm dtype conversions", () => {
  it.each(["BF16", "F16"] as const)("decodes all 65536 %s patterns exactly as dtype.ts", (dtype) => {
    const bytes = allHalfPatterns();
    expect(same(wasmDecodeToF32(bytes, dtype), decodeToF32(bytes, dtype))).toBe(true);
  });

  it("decodes F32 bytes unchanged, at lengths that are not multiples of the vector width", () => {
    for (const length of [0, 1, 3, 5, 17, 1001]) {
      const values = Float32Array.from({ length }, (_, i) => i * 1.5 - 7);
      const bytes = new Uint8Array(values.buffer);
      expect(same(wasmDecodeToF32(bytes, "F32"), values)).toBe(true);
    }
  });

  it.each(["BF16", "F16", "F32"] as const)(
    "encodes to %s exactly as dtype.ts (RNE, NaN, ±Inf, −0, subnormals)",
    (dtype) => {
      const values = boundaryPatterns();
      expect(same(wasmEncodeFromF32(values, dtype), encodeFromF32(values, dtype))).toBe(true);
    },
  );

  it("round-trips every f16 and bf16 pattern except NaN payloads (canonicalised)", () => {
    const bytes = allHalfPatterns();
    for (const dtype of ["BF16", "F16"] as const) {
      const again = wasmEncodeFromF32(wasmDecodeToF32(bytes, dtype), dtype);
      expect(same(again, encodeFromF32(decodeToF32(bytes, dtype), dtype))).toBe(true);
    }
  });

  it("handles odd element counts at the end of a buffer", () => {
    const values = Float32Array.from([1.5, -0, Infinity, NaN, 3e-8, 65520, 1e-45]);
    for (let n = 0; n <= values.length; n++) {
      const part = values.subarray(0, n);
      expect(Array.from(wasmEncodeFromF32(part, "F16"))).toEqual(Array.from(encodeFromF32(part, "F16")));
    }
  });
});
