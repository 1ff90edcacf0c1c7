import { describe, expect, it } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import {
  DTYPE_SIZE,
  bf16BitsToF32,
  decodeToF32,
  encodeFromF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  isDType,
  isFloatDType,
  swapBytesInPlace,
} from "../../src/safetensors/dtype.js";

/**
 * An independent, slow reference: small binary floats described by their mantissa bits and
 * exponent bias, rounded with exact f64 arithmetic (every f32 is exact in f64, and dividing by a
 * power of two is exact), not with the bit tricks under test.
 */
interface Format {
  mantissaBits: number;
  bias: number;
  quietNaN: number;
}
const BF16: Format = { mantissaBits: 7, bias: 127, quietNaN: 0x7fc0 };
const F16: Format = { mantissaBits: 10, bias: 15, quietNaN: 0x7e00 };

function exponentField(format: Format): number {
  return 2 * format.bias + 1; // all ones
}

function referenceEncode(value: number, format: Format, nanSign: boolean): number {
  const { mantissaBits: p, bias } = format;
  const negative = Number.isNaN(value) ? nanSign : value < 0 || Object.is(value, -0);
  const signBit = negative ? 0x8000 : 0;
  const infinity = signBit | (exponentField(format) << p);
  if (Number.isNaN(value)) return signBit | format.quietNaN;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return infinity;
  if (magnitude === 0) return signBit;
  let exponent = Math.floor(Math.log2(magnitude));
  while (2 ** exponent > magnitude) exponent--;
  while (2 ** (exponent + 1) <= magnitude) exponent++;
  exponent = Math.max(exponent, 1 - bias);
  let units = roundHalfEven(magnitude / 2 ** (exponent - p));
  if (units === 2 ** (p + 1)) {
    units /= 2;
    exponent += 1;
  }
  if (exponent > bias) return infinity;
  if (units < 2 ** p) return signBit | units; // subnormal
  return signBit | ((exponent + bias) << p) | (units - 2 ** p);
}

function referenceDecode(bits: number, format: Format): number {
  const { mantissaBits: p, bias } = format;
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> p) & exponentField(format);
  const mantissa = bits & (2 ** p - 1);
  if (exponent === exponentField(format)) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** (1 - bias - p);
  return sign * (2 ** p + mantissa) * 2 ** (exponent - bias - p);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function f32Bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

function halvesAsBytes(halves: Uint16Array): Uint8Array {
  return new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength);
}

function allHalves(): Uint16Array {
  return Uint16Array.from({ length: 65536 }, (_, i) => i);
}

/** xorshift32: deterministic test inputs. */
function randomBits(count: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state;
  }
  return out;
}

describe("dtype tables", () => {
  it("knows the sizes and float dtypes", () => {
    expect(DTYPE_SIZE.BF16).toBe(2);
    expect(DTYPE_SIZE.F8_E4M3).toBe(1);
    expect(DTYPE_SIZE.U64).toBe(8);
    expect(isDType("BF16")).toBe(true);
    expect(isDType("bf16")).toBe(false);
    expect(isDType("toString")).toBe(false);
    expect(isFloatDType("F16")).toBe(true);
    expect(isFloatDType("F64")).toBe(false);
  });
});

describe.each([
  ["BF16", BF16, bf16BitsToF32, f32ToBf16Bits],
  ["F16", F16, f16BitsToF32, f32ToF16Bits],
] as const)("%s conversions", (dtype, format, scalarDecode, scalarEncode) => {
  it("decodes all 65536 patterns exactly (NaN payloads kept)", () => {
    const decoded = decodeToF32(halvesAsBytes(allHalves()), dtype);
    const bits = f32Bits(decoded);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const expected = referenceDecode(h, format);
      const payload = (h & (2 ** format.mantissaBits - 1)) << (23 - format.mantissaBits);
      const nanBits = (((h & 0x8000) << 16) | 0x7f800000 | payload) >>> 0;
      const ok = Number.isNaN(expected) ? bits[h] === nanBits : Object.is(decoded[h], expected);
      const scalar = scalarDecode(h);
      const scalarOk = Number.isNaN(expected) ? Number.isNaN(scalar) : Object.is(scalar, expected);
      if (!ok || !scalarOk) wrong.push(h.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it("round-trips all 65536 patterns; NaNs become the quiet NaN of the same sign", () => {
    const decoded = decodeToF32(halvesAsBytes(allHalves()), dtype);
    const encoded = new Uint16Array(encodeFromF32(decoded, dtype).buffer);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const isNaN = Number.isNaN(referenceDecode(h, format));
      const expected = isNaN ? (h & 0x8000) | format.quietNaN : h;
      // A JS number carries no reliable NaN sign, so the scalar path is checked without it.
      const scalar = scalarEncode(scalarDecode(h));
      const scalarOk = isNaN ? (scalar & 0x7fff) === format.quietNaN : scalar === h;
      if (encoded[h] !== expected || !scalarOk) wrong.push(h.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it("matches the exact reference on random and targeted f32 values", () => {
    const random = randomBits(200_000, dtype === "BF16" ? 7 : 11);
    // Half the inputs land near the format's range, where the rounding cases are.
    const near = randomBits(100_000, 3).map((r) => (r & 0x807fffff) | ((((r >>> 23) % 48) + 96) << 23));
    const bits = new Uint32Array([...random, ...near]);
    const values = new Float32Array(bits.buffer);
    const encoded = new Uint16Array(encodeFromF32(values, dtype).buffer);
    const wrong: string[] = [];
    for (let i = 0; i < bits.length; i++) {
      const expected = referenceEncode(values[i]!, format, bits[i]! >>> 31 === 1);
      // A JS number carries no reliable NaN sign, so the scalar path skips NaNs.
      const scalarOk = Number.isNaN(values[i]) || scalarEncode(values[i]!) === expected;
      if (encoded[i] !== expected || !scalarOk) wrong.push(bits[i]!.toString(16));
    }
    expect(wrong).toEqual([]);
  });
});

describe("round-to-nearest-even cases", () => {
  const bf16 = (bits: number) => f32ToBf16Bits(f32FromBits(bits));
  const f16 = (x: number) => f32ToF16Bits(x);

  it("bf16: ties go to even, just past the tie goes up", () => {
    expect(bf16(0x3f808000)).toBe(0x3f80); // 1 + 2^-8: tie, 0x3F80 is even
    expect(bf16(0x3f818000)).toBe(0x3f82); // tie between 0x3F81 (odd) and 0x3F82
    expect(bf16(0x3f808001)).toBe(0x3f81); // just above the tie
    expect(bf16(0x3f807fff)).toBe(0x3f80); // just below the tie
    expect(bf16(0xbf808001)).toBe(0xbf81); // the same for negatives
  });

  it("bf16: overflow, infinities, zeros, subnormals", () => {
    expect(bf16(0x7f7fffff)).toBe(0x7f80); // f32 max rounds to Inf
    expect(bf16(0x7f7f8000)).toBe(0x7f80); // tie above bf16 max (odd) goes to Inf
    expect(bf16(0x7f7f7fff)).toBe(0x7f7f); // bf16 max
    expect(bf16(0xff800000)).toBe(0xff80);
    expect(bf16(0x80000000)).toBe(0x8000); // -0 stays -0
    expect(bf16(0x00008000)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(bf16(0x00018000)).toBe(0x0002); // subnormal tie to even
    expect(bf16(0x007fffff)).toBe(0x0080); // largest f32 subnormal rounds up to the smallest normal
  });

  it("bf16: NaN keeps its sign and becomes quiet", () => {
    expect(bf16(0x7fc00000)).toBe(0x7fc0);
    expect(bf16(0xffc00000)).toBe(0xffc0);
    expect(bf16(0x7f800001)).toBe(0x7fc0); // signalling NaN whose payload would truncate to Inf
    expect(bf16(0xffffffff)).toBe(0xffc0);
  });

  it("f16: normals, overflow and ties", () => {
    expect(f16(1)).toBe(0x3c00);
    expect(f16(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(f16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie from odd
    expect(f16(1 + 2 ** -11 + 2 ** -23)).toBe(0x3c01);
    expect(f16(65504)).toBe(0x7bff);
    expect(f16(65519.99)).toBe(0x7bff);
    expect(f16(65520)).toBe(0x7c00); // tie above max finite goes to Inf
    expect(f16(-1e9)).toBe(0xfc00);
    expect(f16(-Infinity)).toBe(0xfc00);
    expect(f16(-0)).toBe(0x8000);
  });

  it("f16: subnormal boundaries", () => {
    expect(f16(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f16(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24 goes to 0
    expect(f16(2 ** -25 + 2 ** -40)).toBe(0x0001);
    expect(f16(-(2 ** -26))).toBe(0x8000);
    expect(f16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 units goes to 2
    expect(f16(5 * 2 ** -25)).toBe(0x0002); // tie between 2 and 3 units stays at 2
    expect(f16(1023 * 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(f16(1023.5 * 2 ** -24)).toBe(0x0400); // tie from odd: the smallest normal
    expect(f16(1023.25 * 2 ** -24)).toBe(0x03ff);
    expect(f16(2 ** -14)).toBe(0x0400);
  });

  it("f16: NaN keeps its sign and becomes quiet", () => {
    expect(f32ToF16Bits(f32FromBits(0x7f800001))).toBe(0x7e00);
    expect(f32ToF16Bits(f32FromBits(0xffc00000))).toBe(0xfe00);
  });
});

describe("decodeToF32", () => {
  it("reads unaligned bytes", () => {
    const values = new Float32Array([1.5, -2.25, 3e-8]);
    for (const dtype of ["F32", "F16", "BF16"] as const) {
      const bytes = encodeFromF32(values, dtype);
      const shifted = new Uint8Array(bytes.byteLength + 1);
      shifted.set(bytes, 1);
      const view = shifted.subarray(1);
      expect(view.byteOffset % 2).toBe(1);
      expect(decodeToF32(view, dtype)).toEqual(decodeToF32(bytes, dtype));
    }
  });

  it("returns a copy that does not alias the input", () => {
    const bytes = encodeFromF32(new Float32Array([1, 2]), "F32");
    const decoded = decodeToF32(bytes, "F32");
    decoded[0] = 7;
    expect(decodeToF32(bytes, "F32")[0]).toBe(1);
  });

  it("narrows F64 with round-to-nearest-even", () => {
    const bytes = new Uint8Array(new Float64Array([1 + 2 ** -24, 1 + 3 * 2 ** -24, -0, 1e300]).buffer);
    const decoded = decodeToF32(bytes, "F64");
    expect(decoded[0]).toBe(1);
    expect(decoded[1]).toBe(1 + 2 ** -22);
    expect(Object.is(decoded[2], -0)).toBe(true);
    expect(decoded[3]).toBe(Infinity);
  });

  it("reads little-endian bytes", () => {
    expect(decodeToF32(new Uint8Array([0x80, 0x3f, 0x00, 0xc0]), "BF16")).toEqual(new Float32Array([1, -2]));
    expect(decodeToF32(new Uint8Array([0x00, 0x3c]), "F16")).toEqual(new Float32Array([1]));
  });

  it("refuses non-float dtypes and ragged lengths", () => {
    for (const dtype of ["I32", "U8", "BOOL", "F8_E4M3"] as const) {
      expect(() => decodeToF32(new Uint8Array(4), dtype)).toThrow(/merge needs float tensors/);
    }
    expect(() => decodeToF32(new Uint8Array(3), "BF16")).toThrow(HubmergeError);
    try {
      decodeToF32(new Uint8Array(3), "BF16");
    } catch (error) {
      expect((error as HubmergeError).code).toBe("E_SAFETENSORS");
    }
  });
});

describe("encodeFromF32", () => {
  it("copies F32 bits exactly, NaN payload included", () => {
    const bits = new Uint32Array([0x7fc12345, 0x80000000, 0x3f800000]);
    const bytes = encodeFromF32(new Float32Array(bits.buffer), "F32");
    expect(new Uint32Array(bytes.buffer)).toEqual(bits);
  });

  it("encodes an odd number of values (the unpaired tail)", () => {
    const values = new Float32Array([1, 2, 3]);
    expect([...new Uint16Array(encodeFromF32(values, "BF16").buffer)]).toEqual([0x3f80, 0x4000, 0x4040]);
    expect([...new Uint16Array(encodeFromF32(values, "F16").buffer)]).toEqual([0x3c00, 0x4000, 0x4200]);
    expect(encodeFromF32(new Float32Array(0), "F16").byteLength).toBe(0);
  });

  it("encodes from a Float32Array view at an offset", () => {
    const backing = new Float32Array([9, 1, 2]);
    const bytes = encodeFromF32(backing.subarray(1), "BF16");
    expect([...new Uint16Array(bytes.buffer)]).toEqual([0x3f80, 0x4000]);
  });
});

describe("swapBytesInPlace", () => {
  it("reverses each element's bytes", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapBytesInPlace(bytes, 4);
    expect([...bytes]).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });
});
