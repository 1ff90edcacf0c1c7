/**
 * Reading a parameter's declared range (`ParamSpec.range`, set by the method that owns the
 * parameter). The manifest check and the methods' own checks both ask here, so a range is written
 * once, in the method module, and read the same way everywhere.
 */
import type { ParamRange } from "../merge/types.js";

/** Whether `value` lies in `range`; a parameter without a range accepts any number. */
export function inRange(range: ParamRange | undefined, value: number): boolean {
  if (range === undefined) return true;
  const { min, max } = range;
  if (min !== undefined && !(range.minExclusive ? value > min : value >= min)) return false;
  if (max !== undefined && !(range.maxExclusive ? value < max : value <= max)) return false;
  return true;
}

/** The range in interval notation: `(0, 1]`, `[0, 1)`, `[0, ∞)`. */
export function formatRange(range: ParamRange): string {
  const low = range.min === undefined ? "(−∞" : `${range.minExclusive ? "(" : "["}${range.min}`;
  const high = range.max === undefined ? "∞)" : `${range.max}${range.maxExclusive ? ")" : "]"}`;
  return `${low}, ${high}`;
}
