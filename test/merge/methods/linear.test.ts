import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { linearMethod } from "../../../src/merge/methods/linear.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";

const f = Math.fround;

const a = [0.1, -2.5, 3.75, 1e-3];
const b = [0.7, 0.2, -1.25, 5];
const c = [1.3, 0.05, 2, -0.4];

describe("linear", () => {
  it("declares mergekit's name, parameters and defaults", () => {
    expect(linearMethod.name).toBe("linear");
    expect(linearMethod.base).toBe("none");
    expect(linearMethod.globalParams).toEqual([
      expect.objectContaining({ name: "normalize", default: true }),
    ]);
    expect(linearMethod.perModelParams).toEqual([
      expect.objectContaining({ name: "weight", required: true }),
    ]);
  });

  it("computes Σwθ / Σw in f32, accumulating in model order", () => {
    const weights = [0.3, 0.5, 0.2];
    const ctx = context({
      inputs: [
        input("a", a, { weight: 0.3 }),
        input("b", b, { weight: 0.5 }),
        input("c", c, { weight: 0.2 }),
      ],
      global: { normalize: true },
    });
    const sum = f(f(f(0 + f(0.3)) + f(0.5)) + f(0.2));
    const expected = a.map((_, i) => {
      let acc = 0;
      [a, b, c].forEach((values, model) => {
        acc = f(acc + f(f(weights[model]!) * f(values[i]!)));
      });
      return f(acc / sum);
    });
    expect(bits(linearMethod.merge(ctx))).toEqual(f32Bits(expected));
  });

  it("skips the division with normalize: false", () => {
    const ctx = context({
      inputs: [input("a", a, { weight: 2 }), input("b", b, { weight: -0.5 })],
      global: { normalize: false },
    });
    const expected = a.map((_, i) => f(f(0 + f(2 * f(a[i]!))) + f(f(-0.5) * f(b[i]!))));
    expect(bits(linearMethod.merge(ctx))).toEqual(f32Bits(expected));
  });

  it("refuses to normalize by a zero weight sum (mergekit would write NaN/Inf)", () => {
    const ctx = context({
      inputs: [input("a", a, { weight: 1 }), input("b", b, { weight: -1 })],
      global: { normalize: true },
    });
    const error = caught(() => linearMethod.merge(ctx));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
    expect((error as Error).message).toMatch(/sum to 0/);
  });

  it("allows weights summing to zero without normalize", () => {
    const ctx = context({
      inputs: [input("a", a, { weight: 1 }), input("b", a, { weight: -1 })],
      global: { normalize: false },
    });
    expect(Array.from(linearMethod.merge(ctx))).toEqual([0, 0, 0, 0]);
  });

  it("treats every model, base included, as an ordinary input", () => {
    const ctx = context({ inputs: [input("a", a, { weight: 1 })], global: { normalize: true } });
    expect(bits(linearMethod.merge(ctx))).toEqual(f32Bits(a));
    const withBase = context({
      base: input("base", a),
      inputs: [input("a", a, { weight: 1 })],
      global: { normalize: true },
    });
    expect(
      isHubmergeError(
        caught(() => linearMethod.merge(withBase)),
        "E_INTERNAL",
      ),
    ).toBe(true);
  });

  it("reports a missing weight and mismatched shapes with the model", () => {
    const missing = context({
      inputs: [input("a", a, {}), input("b", b, { weight: 1 })],
      global: { normalize: true },
    });
    const error = caught(() => linearMethod.merge(missing));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
    expect((error as { where: { model?: string } }).where.model).toBe("a");
    const shapes = context({
      inputs: [input("a", a, { weight: 1 }), input("b", [1, 2], { weight: 1 })],
      global: { normalize: true },
    });
    expect(
      isHubmergeError(
        caught(() => linearMethod.merge(shapes)),
        "E_MERGE",
      ),
    ).toBe(true);
  });
});
