/**
 * The exact magnitude cuts of magnitude-select.ts, from histograms the GPU counts: the k-th
 * largest order key (a high-15-bit bucket, then its low 16 bits) and, when elements equal to that
 * key straddle the cut, the tensor index before which the first `take` of them lie. Then the
 * kernel's test "key > cut, or key = cut and index < bound" keeps exactly the reference's top k.
 */
import { decodeToF32, type FloatDType } from "../../../safetensors/dtype.js";
import type { TaskPlan } from "../plan.js";
import { NONE } from "./descriptor.js";

/** One end of one model's rank range: the k-th largest key bounds it (0 upper, 1 lower). */
export interface CutSearch {
  model: number;
  end: 0 | 1;
  k: number;
  bucket?: number;
  /** Elements in buckets above `bucket`. */
  above?: number;
  key?: number;
  /** How many elements equal to `key` the top k take, and how many there are. */
  take?: number;
  equal?: number;
  bound?: number;
}

export interface CutWords {
  key: number;
  bound: number;
}

/** Every element passes (upper end) / no element passes (upper: keep none; lower: exclude none). */
export const KEEP_ALL: CutWords = { key: 0, bound: NONE };
export const NO_CUT: CutWords = { key: NONE, bound: 0 };

/**
 * The cuts to search, plus the fixed words of the other ends: `fixed[m]` = [upper, lower].
 * Rank ranges are clamped to [0, n] as magnitudeRankRangeMask does.
 */
export function cutSearches(
  plan: TaskPlan,
  count: number,
): { searches: CutSearch[]; fixed: [CutWords, CutWords][] } {
  const searches: CutSearch[] = [];
  const fixed: [CutWords, CutWords][] = plan.terms.map(() => [KEEP_ALL, NO_CUT]);
  plan.terms.forEach((term, model) => {
    if (term.sparsity.mode !== "magnitude") return;
    const clamp = (x: number) => Math.max(0, Math.min(count, Math.floor(x)));
    const lo = clamp(term.sparsity.from);
    const hi = clamp(term.sparsity.to);
    if (hi <= lo) {
      fixed[model] = [NO_CUT, NO_CUT];
      return;
    }
    if (hi < count) searches.push({ model, end: 0, k: hi });
    if (lo > 0) searches.push({ model, end: 1, k: lo });
  });
  return { searches, fixed };
}

/** Picks the high bucket holding the k-th largest key (the high histogram has 32768 buckets). */
export function chooseBucket(search: CutSearch, high: Uint32Array): void {
  let above = 0;
  let bucket = high.length - 1;
  while (above + high[bucket]! < search.k) above += high[bucket--]!;
  search.bucket = bucket;
  search.above = above;
}

/** Picks the key within the bucket, and whether the equal elements straddle the cut. */
export function chooseKey(search: CutSearch, low: Uint32Array): void {
  let above = search.above!;
  let slot = low.length - 1;
  while (above + low[slot]! < search.k) above += low[slot--]!;
  search.key = ((search.bucket! << 16) | slot) >>> 0;
  search.take = search.k - above;
  search.equal = low[slot]!;
  if (search.take === search.equal) search.bound = NONE;
}

export function cutWords(search: CutSearch): CutWords {
  return { key: search.key!, bound: search.bound! };
}

/** Order key of |x| from f32 bits (magnitude-select.ts). */
export function magnitudeKey(bits: number): number {
  const key = bits & 0x7fffffff;
  return key > 0x7f800000 ? 0x7f800001 : key;
}

export interface SegmentSource {
  base: { bytes: Uint8Array; dtype: FloatDType };
  model: { bytes: Uint8Array; dtype: FloatDType };
}

/**
 * The bound of a straddled cut: `before` equal elements precede the segment [start, end), in which
 * the remaining `take − before` are found in index order (δ recomputed here in f32, exactly).
 */
export function boundInSegment(
  search: CutSearch,
  source: SegmentSource,
  start: number,
  end: number,
  before: number,
): number {
  const slice = (input: SegmentSource["base"]) => {
    const size = input.dtype === "F32" ? 4 : 2;
    return decodeToF32(input.bytes.subarray(start * size, end * size), input.dtype);
  };
  const base = slice(source.base);
  const model = slice(source.model);
  const delta = new Float32Array(1);
  const bits = new Uint32Array(delta.buffer);
  let seen = before;
  for (let i = 0; i < base.length; i++) {
    delta[0] = model[i]! - base[i]!;
    if (magnitudeKey(bits[0]!) !== search.key) continue;
    seen++;
    if (seen === search.take) return start + i + 1;
  }
  throw new Error(`cut search: segment ${start}..${end} does not hold equal element ${search.take}`);
}
