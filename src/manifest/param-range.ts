/** A parameter's declared range (ParamSpec.range): the test and the words for error messages. */
import type { ParamRange } from "../merge/types.js";

export function inRange(range: ParamRange, value: number): boolean {
  const { min, max } = range;
  if (min !== undefined && (range.minExclusive ? !(value > min) : !(value >= min))) return false;
  if (max !== undefined && (range.maxExclusive ? !(value < max) : !(value <= max))) return false;
  return true;
}

/** `[0, 1]`, `(0, 1]`, `[0, ∞)`, … */
export function describeRange(range: ParamRange): string {
  const low = range.min === undefined ? "(−∞" : `${range.minExclusive ? "(" : "["}${range.min}`;
  const high = range.max === undefined ? "∞)" : `${range.max}${range.maxExclusive ? ")" : "]"}`;
  return `${low}, ${high}`;
}
