import { createHash } from "node:crypto";

/**
 * Fills `out` with N(0, std²) samples from a seed string: xoshiro128** seeded by SHA-256 of the
 * label, Box–Muller on top. Only synthetic fixtures use it; merges use Philox (docs/rng.md).
 */
export function gaussianFill(out: Float32Array, label: string, std: number): void {
  const seed = createHash("sha256").update(label).digest();
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12) | 1; // xoshiro's state must not be all zero
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return (result + 0.5) / 4294967296;
  };
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * std;
    const angle = 2 * Math.PI * next();
    out[i] = r * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(angle);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
