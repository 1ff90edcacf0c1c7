import { InvalidArgumentError } from "commander";

/** `--seed` takes any u64; YAML and JS numbers cannot hold all of them, so parse as bigint. */
export function parseSeed(value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) >= 2n ** 64n) {
    throw new InvalidArgumentError("expected an integer from 0 to 2^64-1");
  }
  return BigInt(value);
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
};

/** `5GB`, `500MB`, `2GiB` or a plain byte count. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toUpperCase()] : undefined;
  if (!match || unit === undefined)
    throw new InvalidArgumentError("expected a size such as 5GB, 500MB or 2GiB");
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError("the size must be at least one byte");
  return bytes;
}

/** A size as parseSize reads it, or 0 (to turn something off). */
export function parseSizeOrZero(value: string): number {
  return /^\s*0+\s*[a-z]*\s*$/i.test(value) ? 0 : parseSize(value);
}
