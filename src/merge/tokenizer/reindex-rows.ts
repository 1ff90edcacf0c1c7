/**
 * Applies a row plan to the raw bytes of each source's embedding tensor: own rows are copied as
 * bytes (no rounding), default rows are computed in f32 (a mean adds the rows in participant
 * order, then divides) and encoded into each source's dtype, padding rows take the mean of the
 * source's new rows above them. The results keep each source's dtype, so the merge that follows
 * reads them like any other input.
 */
import {
  DTYPE_SIZE,
  decodeToF32,
  encodeFromF32,
  type DType,
  type FloatDType,
} from "../../safetensors/dtype.js";
import type { RowFill, RowPlan } from "./row-plan.js";

export interface RowInput {
  bytes: Uint8Array;
  dtype: DType;
  shape: readonly number[];
}

/**
 * Each input re-indexed to `plan.rows` rows, written into `allocate(i, bytes)` (a buffer the
 * caller owns; its bytes need not be zero).
 */
export function reindexRows(
  plan: RowPlan,
  inputs: readonly RowInput[],
  allocate: (index: number, bytes: number) => Uint8Array,
): Uint8Array[] {
  const hidden = inputs[0]!.shape[1]!;
  const rowOf = (m: number, row: number) => {
    const { bytes, dtype } = inputs[m]!;
    const size = hidden * DTYPE_SIZE[dtype];
    return decodeToF32(bytes.subarray(row * size, (row + 1) * size), dtype);
  };
  const defaults = new Map<number, Float32Array>();
  for (const [id, fill] of plan.fills) defaults.set(id, fillRow(fill, hidden, rowOf));
  return inputs.map((input, m) => {
    const size = hidden * DTYPE_SIZE[input.dtype];
    const out = allocate(m, plan.rows * size);
    const own = plan.own[m]!;
    for (let id = 0; id < plan.length;) {
      const row = own[id]!;
      if (row < 0) {
        out.set(encodeRow(defaults.get(id) ?? new Float32Array(hidden), input.dtype), id * size);
        id++;
        continue;
      }
      // Consecutive rows that stay consecutive (most of a vocabulary) move in one copy.
      let run = 1;
      while (id + run < plan.length && own[id + run] === row + run) run++;
      out.set(input.bytes.subarray(row * size, (row + run) * size), id * size);
      id += run;
    }
    if (plan.rows > plan.length) padRows(out, plan, hidden, input.dtype);
    return out;
  });
}

function fillRow(
  fill: RowFill,
  hidden: number,
  rowOf: (m: number, row: number) => Float32Array,
): Float32Array {
  if (fill.kind === "zero") return new Float32Array(hidden);
  if (fill.kind === "row") return rowOf(fill.model, fill.row);
  const sum = new Float32Array(hidden);
  for (const { model, row } of fill.from) {
    const values = rowOf(model, row);
    for (let i = 0; i < hidden; i++) sum[i] = Math.fround(sum[i]! + values[i]!);
  }
  for (let i = 0; i < hidden; i++) sum[i] = Math.fround(sum[i]! / fill.from.length);
  return sum;
}

function encodeRow(values: Float32Array, dtype: DType): Uint8Array {
  return encodeFromF32(values, dtype as FloatDType);
}

/** Rows past the tokens: the column means of the rows above, as mergekit pads a vocabulary. */
function padRows(out: Uint8Array, plan: RowPlan, hidden: number, dtype: DType): void {
  const size = hidden * DTYPE_SIZE[dtype];
  const sum = new Float32Array(hidden);
  for (let id = 0; id < plan.length; id++) {
    const values = decodeToF32(out.subarray(id * size, (id + 1) * size), dtype);
    for (let i = 0; i < hidden; i++) sum[i] = Math.fround(sum[i]! + values[i]!);
  }
  for (let i = 0; i < hidden; i++) sum[i] = Math.fround(sum[i]! / plan.length);
  const row = encodeRow(sum, dtype);
  for (let id = plan.length; id < plan.rows; id++) out.set(row, id * size);
}
