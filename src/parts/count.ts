/**
 * How many parts the Action splits a merge into, from the manifest's `hubmerge: {parts}` and the
 * plan's output size. A part is one or more whole shards, so the count never exceeds the shards.
 */

/** `parts: auto` aims at about this many output bytes per part (decimal, like shard sizes). */
export const AUTO_PART_BYTES = 20_000_000_000;

export function partCount(
  setting: "auto" | number | undefined,
  plan: { outputBytes: number; shards: number },
  bytesPerPart: number = AUTO_PART_BYTES,
): number {
  const wanted =
    setting === undefined ? 1 : setting === "auto" ? Math.ceil(plan.outputBytes / bytesPerPart) : setting;
  return Math.max(1, Math.min(wanted, plan.shards));
}
