/** Builds TensorMergeContexts for the basic methods' tests. */

import type { MergeInput, ResolvedParams, TensorMergeContext } from "../../../src/merge/types.js";

export function input(
  model: string,
  values: readonly number[],
  params: ResolvedParams = {},
  shape?: number[],
): MergeInput {
  return { model, data: Float32Array.from(values), shape: shape ?? [values.length], params };
}

export interface ContextOptions {
  base?: MergeInput;
  inputs: MergeInput[];
  global?: ResolvedParams;
  shape?: number[];
  tensorName?: string;
}

export function context(options: ContextOptions): TensorMergeContext & { warnings: string[] } {
  const warnings: string[] = [];
  const first = options.base ?? options.inputs[0];
  const tensorName = options.tensorName ?? "model.layers.0.mlp.up_proj.weight";
  return {
    tensorName,
    sourceTensorName: tensorName,
    shape: options.shape ?? first?.shape ?? [0],
    base: options.base,
    inputs: options.inputs,
    global: options.global ?? {},
    seed: 0n,
    dareRescale: "paper",
    warn: (message) => warnings.push(message),
    warnings,
  };
}

/** The f32 bit patterns of an array, for exact comparisons that tell -0 from 0 and see NaNs. */
export function bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

export function f32Bits(values: readonly number[]): number[] {
  return bits(Float32Array.from(values));
}

/** The error `fn` throws (fails the test when it does not throw). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
