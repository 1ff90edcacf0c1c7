import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { modelStockMethod } from "../../../src/merge/methods/model-stock.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";

const f = Math.fround;

const base = [1, 2, 3, 4].map(f);

function plus(delta: readonly number[]): number[] {
  return base.map((value, i) => f(value + delta[i]!));
}

function merge(models: number[][], filterWise = false, shape = [4]) {
  const ctx = context({
    base: input("base", base, {}, shape),
    inputs: models.map((values, i) => input(`m${i}`, values, {}, shape)),
    global: { filter_wise: filterWise },
    shape,
  });
  return modelStockMethod.merge(ctx);
}

/** Independent restatement: mean pairwise cosine of the deltas, t, then t·avg + (1 − t)·θ₀ in f32. */
function expected(models: number[][], rows: number[][] = [[0, 1, 2, 3]]): number[] {
  const deltas = models.map((m) => m.map((v, i) => f(v - base[i]!)));
  const out = new Array<number>(base.length);
  for (const row of rows) {
    const dot = (p: number[], q: number[]) => row.reduce((s, k) => s + p[k]! * q[k]!, 0);
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < deltas.length; i++) {
      for (let j = i + 1; j < deltas.length; j++) {
        const norms = Math.sqrt(dot(deltas[i]!, deltas[i]!)) * Math.sqrt(dot(deltas[j]!, deltas[j]!));
        sum += Math.min(1, Math.max(-1, dot(deltas[i]!, deltas[j]!) / Math.max(norms, 1e-6)));
        pairs++;
      }
    }
    const cos = sum / pairs;
    const n = models.length;
    const t = (n * cos) / (1 + (n - 1) * cos);
    for (const k of row) {
      const avg = f(models.reduce((acc, m) => f(acc + m[k]!), 0) / n);
      out[k] = f(f(f(t) * avg) + f(f(1 - t) * base[k]!));
    }
  }
  return out;
}

describe("model_stock", () => {
  it("declares mergekit's name, base and filter_wise default", () => {
    expect(modelStockMethod.name).toBe("model_stock");
    expect(modelStockMethod.base).toBe("required");
    expect(modelStockMethod.minModels).toBe(2);
    expect(modelStockMethod.globalParams).toEqual([
      expect.objectContaining({ name: "filter_wise", default: false }),
    ]);
  });

  it("returns the base exactly for orthogonal task vectors (cos 0 → t 0)", () => {
    expect(bits(merge([plus([0.5, 0, 0, 0]), plus([0, 0.25, 0, 0])]))).toEqual(f32Bits(base));
  });

  it("returns the average for identical task vectors (cos 1 → t 1)", () => {
    const m = plus([0.5, -0.25, 0.125, 1]);
    expect(bits(merge([m, m, m]))).toEqual(f32Bits(m));
  });

  it("uses the mean pairwise cosine over three models", () => {
    const models = [plus([0.5, 0.1, -0.2, 0.3]), plus([0.4, 0.3, 0.1, 0.2]), plus([0.6, -0.1, 0.05, 0.35])];
    expect(bits(merge(models))).toEqual(f32Bits(expected(models)));
  });

  it("computes t per row with filter_wise", () => {
    const models = [plus([0.5, 0.1, -0.2, 0.3]), plus([0.4, -0.3, 0.1, 0.2])];
    const perRow = expected(models, [
      [0, 1],
      [2, 3],
    ]);
    expect(bits(merge(models, true, [2, 2]))).toEqual(f32Bits(perRow));
    expect(bits(merge(models, false, [2, 2]))).toEqual(f32Bits(expected(models)));
    expect(perRow).not.toEqual(expected(models));
  });

  it("treats a 1-D tensor as one row with filter_wise", () => {
    const models = [plus([0.5, 0.1, -0.2, 0.3]), plus([0.4, -0.3, 0.1, 0.2])];
    expect(bits(merge(models, true))).toEqual(bits(merge(models, false)));
  });

  it("keeps the base when the fine-tunes equal it (zero norms clamp to 1e-6)", () => {
    expect(bits(merge([base, base]))).toEqual(f32Bits(base));
  });

  it("refuses opposite task vectors, where t divides by zero", () => {
    const error = caught(() => merge([plus([0.5, 0, 0, 0]), plus([-0.5, 0, 0, 0])]));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
  });

  it("needs a base and at least two fine-tunes", () => {
    expect(
      isHubmergeError(
        caught(() => merge([plus([1, 0, 0, 0])])),
        "E_MERGE",
      ),
    ).toBe(true);
    const noBase = context({ inputs: [input("a", base), input("b", base)], global: { filter_wise: false } });
    expect(
      isHubmergeError(
        caught(() => modelStockMethod.merge(noBase)),
        "E_MERGE",
      ),
    ).toBe(true);
  });
});
