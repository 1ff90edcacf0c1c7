/**
 * Which output shards each part of a split merge writes: whole shards of the shard plan (known
 * before any weight is read), in plan order, cut into `count` runs of about equal bytes. The cut
 * depends only on the shard sizes, so every runner computes the same parts.
 */
import { HubmergeError } from "../errors.js";

/** Part `index` (1-based) of `count`. */
export interface PartSpec {
  index: number;
  count: number;
}

/** `I/N`, 1 ≤ I ≤ N. */
export function parsePartSpec(text: string): PartSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 1 || index > count) {
    throw new HubmergeError("E_USAGE", `--part ${JSON.stringify(text)} is not I/N with 1 ≤ I ≤ N`, {
      hint: "e.g. --part 2/4 merges the second of four parts",
    });
  }
  return { index, count };
}

/**
 * Shard indices of each part: contiguous runs, one or more shards each. A part closes once its
 * bytes reach its share of the total (a shard counts by its middle, so a large shard goes to the
 * part that holds most of it), and never leaves fewer shards than parts still to fill.
 */
export function splitShards(sizes: readonly number[], count: number): number[][] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new HubmergeError("E_USAGE", `the number of parts must be a positive integer, got ${count}`);
  }
  if (count > sizes.length) {
    throw new HubmergeError(
      "E_USAGE",
      `the merge has ${sizes.length} output shard(s), too few for ${count} parts (a part is one or more whole shards)`,
      { hint: "use fewer parts, or a smaller --shard-size so that there are more shards" },
    );
  }
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const parts: number[][] = [[]];
  let before = 0;
  sizes.forEach((size, i) => {
    const part = parts.length - 1;
    parts[part]!.push(i);
    before += size;
    if (part === count - 1 || i === sizes.length - 1) return;
    const shardsLeft = sizes.length - 1 - i;
    const partsLeft = count - 1 - part;
    const share = (total * (part + 1)) / count;
    if (shardsLeft === partsLeft || before + sizes[i + 1]! / 2 > share) parts.push([]);
  });
  return parts;
}
