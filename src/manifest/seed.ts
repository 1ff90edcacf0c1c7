/**
 * The merge seed: a whole number in 0 … 2^64−1, kept as a bigint. YAML numbers above 2^53 lose
 * precision as JS numbers, so the parser hands over the scalar's source text instead.
 */
const MAX_SEED = (1n << 64n) - 1n;

export const SEED_HINT =
  'Write the seed as a whole decimal number from 0 to 18446744073709551615, e.g. `seed: 1234` (quoting it, `seed: "1234"`, works too).';

/** The seed, or a sentence saying what is wrong with it. */
export function parseSeed(text: unknown): { seed: bigint } | { problem: string } {
  if (typeof text === "bigint") text = text.toString();
  if (typeof text === "number") text = String(text);
  if (typeof text !== "string") return { problem: "must be a whole number" };
  const trimmed = text.trim();
  if (!/^(0|[1-9][0-9]*)$/.test(trimmed)) {
    const negative = /^-[0-9]+$/.test(trimmed);
    return {
      problem: negative
        ? `must not be negative, got ${trimmed}`
        : `must be a whole decimal number, got ${JSON.stringify(text)}`,
    };
  }
  const seed = BigInt(trimmed);
  if (seed > MAX_SEED) return { problem: `must be at most 2^64−1 (18446744073709551615), got ${trimmed}` };
  return { seed };
}
