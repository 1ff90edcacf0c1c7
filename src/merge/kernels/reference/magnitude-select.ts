/**
 * Exact selection by magnitude. All of it uses one total order on the elements of a tensor,
 * "larger first":
 *
 *   a comes before b iff |a| > |b|, or |a| = |b| and a's index < b's index;
 *   every NaN counts as larger than +Inf (NaNs among themselves by index); -0 equals +0.
 *
 * Magnitudes are compared through their f32 bit patterns with the sign cleared (monotone for
 * non-negative floats; every NaN pattern is mapped to one key above +Inf). Top-k uses a radix
 * select (two 16-bit histogram passes and a marking pass): O(n), no sort.
 */

const NAN_KEY = 0x7f800001;

/** Order key of |x| for the f32 with bit pattern `bits`. */
function magnitudeKey(bits: number): number {
  const key = bits & 0x7fffffff;
  return key > 0x7f800000 ? NAN_KEY : key;
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/**
 * The k-th largest magnitude |x| of the values (1 ≤ k ≤ n), by the same radix select as top-k:
 * O(n), no sort, values untouched. A NaN among the k largest gives NaN.
 */
export function kthLargestMagnitude(values: Float32Array, k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > values.length) {
    throw new RangeError(`k = ${k} is outside 1..${values.length}`);
  }
  const { key } = selectCut(bitsOf(values), k);
  return key === NAN_KEY ? NaN : new Float32Array(new Uint32Array([key]).buffer)[0]!;
}

/** The k-th largest key (1 ≤ k ≤ n), and how many elements equal to it the top k take. */
interface Cut {
  key: number;
  takeEqual: number;
}

function selectCut(bits: Uint32Array, k: number): Cut {
  const high = new Uint32Array(1 << 15);
  for (let i = 0; i < bits.length; i++) high[magnitudeKey(bits[i]!) >>> 16]!++;
  let above = 0;
  let bucket = high.length - 1;
  while (above + high[bucket]! < k) above += high[bucket--]!;
  const low = new Uint32Array(1 << 16);
  for (let i = 0; i < bits.length; i++) {
    const key = magnitudeKey(bits[i]!);
    if (key >>> 16 === bucket) low[key & 0xffff]!++;
  }
  let slot = low.length - 1;
  while (above + low[slot]! < k) above += low[slot--]!;
  return { key: ((bucket << 16) | slot) >>> 0, takeEqual: k - above };
}

/**
 * Mask (1 kept) of the k largest |x| in the order above: every element above the k-th largest
 * magnitude, then the elements equal to it in index order until exactly k are kept.
 * k ≤ 0 keeps nothing, k ≥ n keeps everything.
 */
export function magnitudeTopKMask(values: Float32Array, k: number, out?: Uint8Array): Uint8Array {
  return magnitudeRankRangeMask(values, 0, k, out);
}

/**
 * Mask of the elements whose position in the "larger first" order is in [from, to): the top `to`
 * minus the top `from`. Both ends are clamped to [0, n].
 */
export function magnitudeRankRangeMask(
  values: Float32Array,
  from: number,
  to: number,
  out: Uint8Array = new Uint8Array(values.length),
): Uint8Array {
  const n = values.length;
  if (out.length !== n) throw new RangeError("magnitude mask: output length differs from the input's");
  const lo = Math.max(0, Math.min(n, Math.floor(from)));
  const hi = Math.max(0, Math.min(n, Math.floor(to)));
  out.fill(0);
  if (hi <= lo) return out;
  const bits = bitsOf(values);
  const upper = hi === n ? undefined : selectCut(bits, hi);
  const lower = lo === 0 ? undefined : selectCut(bits, lo);
  let upperEqual = upper?.takeEqual ?? 0;
  let lowerEqual = lower?.takeEqual ?? 0;
  for (let i = 0; i < n; i++) {
    const key = magnitudeKey(bits[i]!);
    let inUpper = true;
    if (upper) inUpper = key > upper.key || (key === upper.key && upperEqual-- > 0);
    let inLower = false;
    if (lower) inLower = key > lower.key || (key === lower.key && lowerEqual-- > 0);
    out[i] = inUpper && !inLower ? 1 : 0;
  }
  return out;
}

/**
 * How many of n elements breadcrumbs drops at each end (mergekit's counts): keep = ⌊d·n⌋,
 * top = ⌊γ·n⌋, bottom = n − keep − top; when bottom < 0, top shrinks by that much and bottom = 0.
 */
export function breadcrumbsCounts(
  n: number,
  density: number,
  gamma: number,
): { top: number; bottom: number } {
  const keep = Math.floor(density * n);
  let top = Math.floor(gamma * n);
  let bottom = n - keep - top;
  if (bottom < 0) {
    top += bottom;
    bottom = 0;
  }
  return { top, bottom };
}

/**
 * Breadcrumbs' magnitude_outliers mask: drops the `top` largest and the `bottom` smallest
 * (breadcrumbsCounts) and keeps the middle, i.e. positions [top, n − bottom) of the order above.
 */
export function magnitudeOutliersMask(values: Float32Array, density: number, gamma: number): Uint8Array {
  const { top, bottom } = breadcrumbsCounts(values.length, density, gamma);
  return magnitudeRankRangeMask(values, top, values.length - bottom);
}

/** Rows up to this length are ranked by sorting packed f64 keys (key·2^21 + tie-break). */
const PACKED_ROW_LIMIT = 1 << 21;

/**
 * Ascending magnitude rank of every element within its row (consecutive runs of `rowLength`):
 * 0 for the smallest, rowLength − 1 for the largest, in the reverse of the "larger first" order
 * (so among equal magnitudes the higher index ranks lower). Writes `out[i]`.
 */
export function rowAscendingRanks(
  values: Float32Array,
  rowLength: number,
  out: Uint32Array,
  packedLimit: number = PACKED_ROW_LIMIT,
): void {
  if (rowLength <= 0 || values.length % rowLength !== 0 || out.length !== values.length) {
    throw new RangeError(`rowAscendingRanks: ${values.length} elements do not form rows of ${rowLength}`);
  }
  const bits = bitsOf(values);
  const packed = rowLength <= Math.min(packedLimit, PACKED_ROW_LIMIT);
  const rank = packed ? rankRowPacked : rankRowByComparator;
  const scratch = packed ? new Float64Array(rowLength) : undefined;
  for (let start = 0; start < values.length; start += rowLength) {
    rank(bits, start, rowLength, out, scratch);
  }
}

function rankRowPacked(
  bits: Uint32Array,
  start: number,
  length: number,
  out: Uint32Array,
  scratch?: Float64Array,
): void {
  const packed = scratch!;
  // key < 2^31 and tie-break < 2^21: the packed value < 2^52 is exact in f64.
  for (let j = 0; j < length; j++) {
    packed[j] = magnitudeKey(bits[start + j]!) * PACKED_ROW_LIMIT + (length - 1 - j);
  }
  packed.sort();
  for (let rank = 0; rank < length; rank++) {
    const tieBreak = packed[rank]! % PACKED_ROW_LIMIT;
    out[start + (length - 1 - tieBreak)] = rank;
  }
}

function rankRowByComparator(bits: Uint32Array, start: number, length: number, out: Uint32Array): void {
  const order = new Uint32Array(length);
  for (let j = 0; j < length; j++) order[j] = j;
  order.sort((a, b) => magnitudeKey(bits[start + a]!) - magnitudeKey(bits[start + b]!) || b - a);
  for (let rank = 0; rank < length; rank++) out[start + order[rank]!] = rank;
}
