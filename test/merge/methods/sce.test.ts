import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import { sceMethod, sceSelectCount, sceWeights } from "../../../src/merge/methods/sce.js";
import type { ResolvedParams } from "../../../src/merge/types.js";
import { useTempDirs } from "../../support/tmp.js";
import { bits, caught, context, f32Bits, input } from "./basic-method-context.js";
import { expectFamilyMerge } from "./family-merge.js";

const f = Math.fround;
const tempDir = useTempDirs();

function merge(
  base: number[],
  models: number[][],
  global: ResolvedParams = { select_topk: 1, int8_mask: false },
) {
  return sceMethod.merge(
    context({ base: input("base", base), inputs: models.map((m, i) => input(`m${i}`, m)), global }),
  );
}

/** Independent restatement with plain arrays and a sort for the selection. */
function expected(base: number[], models: number[][], topk: number): number[] {
  const n = base.length;
  let deltas = models.map((m) => m.map((x, e) => f(x - base[e]!)));
  if (topk < 1) {
    const variance = base.map((_, e) => {
      const column = deltas.map((d) => d[e]!);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      return f(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length);
    });
    const nonzero = variance.filter((v) => v !== 0).length;
    const k = topk <= 0 ? 0 : Math.trunc(f(f(nonzero) * f(topk)));
    const order = variance.map((v, e) => [v, e] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const keep = new Set(order.slice(0, k).map(([, e]) => e));
    deltas = deltas.map((d) => d.map((x, e) => (keep.has(e) ? x : 0)));
  }
  const means = deltas.map((d) => d.reduce((a, x) => a + x * x, 0) / n);
  const total = means.reduce((a, b) => a + b, 0);
  const w = Math.abs(total) < 1e-6 ? means.map(() => f(1 / means.length)) : means.map((m) => f(m / total));
  return base.map((b, e) => {
    let s = 0;
    for (const d of deltas) s = f(s + d[e]!);
    const sign = s >= 0 ? 1 : -1;
    let mixed = 0;
    let div = 0;
    deltas.forEach((d, i) => {
      if (Math.sign(d[e]!) !== sign) return;
      mixed = f(mixed + f(w[i]! * d[e]!));
      div = f(div + w[i]!);
    });
    return f(b + f(mixed / Math.max(div, f(1e-6))));
  });
}

describe("sce", () => {
  it("declares mergekit's name, parameters and defaults", () => {
    expect(methodRegistry.get("sce")).toBe(sceMethod);
    expect([sceMethod.base, sceMethod.minModels]).toEqual(["required", 1]);
    expect(sceMethod.globalParams.map((p) => [p.name, p.default])).toEqual([
      ["select_topk", 1],
      ["int8_mask", false],
    ]);
    expect(sceMethod.perModelParams).toEqual([]);
  });

  it("weights by mean square, erases minority signs, divides by agreeing weights (hand-checked)", () => {
    // Mean squares 1.5 and 3.5 → weights 0.3, 0.7. e1: 2 − 2 = 0 elects +, so only model 1 counts.
    expect(sceWeights([Float32Array.from([1, 2, -1, 0]), Float32Array.from([3, -2, -1, 0])])).toEqual([
      f(0.3),
      f(0.7),
    ]);
    const out = merge(
      [0, 0, 0, 0],
      [
        [1, 2, -1, 0],
        [3, -2, -1, 0],
      ],
    );
    const [w1, w2] = [f(0.3), f(0.7)];
    expect(Array.from(out)).toEqual([
      f(f(f(w1 * 1) + f(w2 * 3)) / f(w1 + w2)),
      f(f(w1 * 2) / w1),
      f(f(f(w1 * -1) + f(w2 * -1)) / f(w1 + w2)),
      0,
    ]);
    expect(out[0]).toBeCloseTo(2.4, 6);
    expect(out[1]).toBe(2);
  });

  it("selects the top-variance positions (hand-checked), ties by ascending index", () => {
    // Variances 1, 4, 0, 0 → two non-zero, k = 1 → only e1 survives; weights 0.5/0.5; + wins at 0.
    expect(
      Array.from(
        merge(
          [0, 0, 0, 0],
          [
            [1, 2, -1, 0],
            [3, -2, -1, 0],
          ],
          { select_topk: 0.5, int8_mask: false },
        ),
      ),
    ).toEqual([0, 2, 0, 0]);
    // Equal variances: the lower index is kept.
    expect(
      Array.from(
        merge(
          [0, 0],
          [
            [1, 1],
            [-1, -1],
          ],
          { select_topk: 0.5, int8_mask: false },
        ),
      ),
    ).toEqual([1, 0]);
  });

  it("keeps nothing when select_topk is 0 or ⌊nonzero·select_topk⌋ is 0, and everything at 1", () => {
    const base = [0.5, -0.25];
    const models = [
      [1, 2],
      [3, 1],
    ];
    expect(bits(merge(base, models, { select_topk: 0, int8_mask: false }))).toEqual(f32Bits(base));
    expect(sceSelectCount(2, 0.4)).toBe(0);
    expect(bits(merge(base, models, { select_topk: 0.4, int8_mask: false }))).toEqual(f32Bits(base));
    expect(bits(merge(base, models, { select_topk: 1, int8_mask: true }))).toEqual(
      f32Bits(expected(base, models, 1)),
    );
  });

  it("takes k = trunc(f32(f32(nonzero)·f32(select_topk))) as mergekit's f32 product does", () => {
    expect(sceSelectCount(10, 0.3)).toBe(3);
    expect(sceSelectCount(100, 0.07)).toBe(7);
    expect(sceSelectCount(16777217, 1 / 3)).toBe(Math.trunc(f(f(16777217) * f(1 / 3))));
  });

  it("gives equal weights when the mean squares sum below 1e-6", () => {
    expect(sceWeights([Float32Array.from([1e-4, 0]), Float32Array.from([5e-4, 0])])).toEqual([0.5, 0.5]);
    expect(sceWeights([Float32Array.from([0, 0]), Float32Array.from([0, 0])])).toEqual([0.5, 0.5]);
  });

  it("makes every NaN weight the canonical NaN (its payload would depend on V8's compilation)", () => {
    // An Inf or NaN in a task vector makes the mean squares' sum NaN: every weight is 0x7FC00000.
    const nan = new Float32Array(new Uint32Array([0xffc01234]).buffer)[0]!;
    const deltas = [
      Float32Array.from([nan, 1]),
      Float32Array.from([-Infinity, 2]),
      Float32Array.from([1, 0]),
    ];
    expect(bits(Float32Array.from(sceWeights(deltas)))).toEqual([0x7fc00000, 0x7fc00000, 0x7fc00000]);
  });

  it("matches an independent restatement on random task vectors", () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const base = Array.from({ length: 96 }, () => f(rand()));
    const models = [0, 1, 2].map(() => base.map((b) => f(b + f(rand() * 0.05))));
    for (const topk of [1, 0.9, 0.3, 0.01]) {
      const global = { select_topk: topk, int8_mask: false };
      expect(bits(merge(base, models, global))).toEqual(f32Bits(expected(base, models, topk)));
    }
  });

  it("refuses mismatched shapes; validates select_topk in [0, 1]; ignores (warns about) weight", () => {
    const odd = context({
      base: input("b", [1, 2]),
      inputs: [input("m", [1])],
      global: { select_topk: 1, int8_mask: false },
      shape: [2],
    });
    expect(
      isHubmergeError(
        caught(() => sceMethod.merge(odd)),
        "E_MERGE",
      ),
    ).toBe(true);
    const text = (extra: string) =>
      `merge_method: sce\nbase_model: org/base\nmodels:\n  - model: org/a\n    parameters: {weight: 1}\n  - model: org/b\n${extra}`;
    const validate = (t: string) => validateManifest(parseManifest(t, "m.yaml"), methodRegistry);
    const ok = parseManifest(text("parameters: {select_topk: 0.1}\n"), "m.yaml");
    validateManifest(ok, methodRegistry);
    expect(ok.warnings.map((w) => w.message).join("\n")).toMatch(/`weight` is not a parameter of sce/);
    expect(caught(() => validate(text("parameters: {select_topk: 1.5}\n")))).toMatchObject({
      message: expect.stringMatching(/select_topk must be in \[0, 1\]/),
    });
  });

  it("plans and merges a manifest end to end", async () => {
    const checked = await expectFamilyMerge({
      dir: await tempDir(),
      manifest: `merge_method: sce\nbase_model: ./base\nmodels:\n  - model: ./ft1\n  - model: ./ft2\n  - model: ./ft3\nparameters: {select_topk: 0.3}\ndtype: float32\n`,
      method: sceMethod,
      fineTunes: 3,
      base: "separate",
      global: { select_topk: 0.3, int8_mask: false },
    });
    expect(checked).toBeGreaterThan(10);
  });
});
