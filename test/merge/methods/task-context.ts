/** Builds a TensorMergeContext for task-family tests and records its warnings. */
import type { DareRescale, MergeInput, ParamValue, TensorMergeContext } from "../../../src/merge/types.js";

export interface ModelSpec {
  model: string;
  data: number[];
  shape?: number[];
  params?: Record<string, ParamValue>;
}

export interface ContextSpec {
  tensorName?: string;
  base: number[] | { data: number[]; shape: number[] };
  models: ModelSpec[];
  global?: Record<string, ParamValue>;
  seed?: bigint;
  dareRescale?: DareRescale;
}

export function taskContext(spec: ContextSpec): TensorMergeContext & { warnings: string[] } {
  const base = Array.isArray(spec.base) ? { data: spec.base, shape: [spec.base.length] } : spec.base;
  const toInput = (m: ModelSpec): MergeInput => ({
    model: m.model,
    data: Float32Array.from(m.data),
    shape: m.shape ?? [m.data.length],
    params: m.params ?? {},
  });
  const warnings: string[] = [];
  const tensorName = spec.tensorName ?? "model.layers.0.mlp.up_proj.weight";
  return {
    tensorName,
    sourceTensorName: tensorName,
    shape: base.shape,
    base: toInput({ model: "org/base", data: base.data, shape: base.shape }),
    inputs: spec.models.map(toInput),
    global: spec.global ?? {},
    seed: spec.seed ?? 1234n,
    dareRescale: spec.dareRescale ?? "paper",
    warnings,
    warn: (message) => warnings.push(message),
  };
}

/** Float32Array of exact expectations (each already an f32 value or rounded with Math.fround). */
export function f32s(values: number[]): Float32Array {
  return Float32Array.from(values);
}
