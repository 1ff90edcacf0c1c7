/**
 * Turning histograms into magnitude cuts, exactly as magnitude-select.ts's selectCut does: the
 * k-th largest order key, and how many elements equal to it the top k take (in index order).
 * The histograms are sums over chunks, so the cut does not depend on how the tensor was split.
 */
import { NO_KEY } from "./abi.js";

/** A bucket of the high 15 key bits, with the number of elements in higher buckets. */
export interface BucketChoice {
  bucket: number;
  above: number;
}

/** The words the fused kernel reads for one end of a rank range. */
export interface CutWords {
  key: number;
  take: number;
}

/** The clamped rank range [lo, hi) of magnitudeRankRangeMask. */
export function clampRange(from: number, to: number, n: number): { lo: number; hi: number } {
  const clamp = (x: number) => Math.max(0, Math.min(n, Math.floor(x)));
  return { lo: clamp(from), hi: clamp(to) };
}

/** The bucket holding the k-th largest key (1 ≤ k ≤ n). */
export function chooseBucket(high: Uint32Array, k: number): BucketChoice {
  let above = 0;
  let bucket = high.length - 1;
  while (above + high[bucket]! < k) above += high[bucket--]!;
  return { bucket, above };
}

/** The k-th largest key itself, from the low-bits histogram of its bucket. */
export function chooseKey(low: Uint32Array, k: number, choice: BucketChoice): CutWords {
  let above = choice.above;
  let slot = low.length - 1;
  while (above + low[slot]! < k) above += low[slot--]!;
  return { key: ((choice.bucket << 16) | slot) >>> 0, take: k - above };
}

/** Upper end when every element is in range (key > 0, or = 0 with an unbounded take). */
export const KEEP_ALL: CutWords = { key: 0, take: 0xffffffff };
/** An end no element passes: nothing kept (upper) or nothing excluded (lower). */
export const NO_CUT: CutWords = { key: NO_KEY, take: 0 };
