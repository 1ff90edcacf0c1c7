import { describe, expect, it } from "vitest";
import { dareLinearMethod } from "../../../src/merge/methods/dare-linear.js";
import { dareMask } from "../../../src/merge/rng/dare-stream.js";
import { taskContext } from "./task-context.js";

const f32 = Math.fround;
const TENSOR = "model.layers.3.self_attn.o_proj.weight";
const n = 4096;
const base = Array.from({ length: n }, (_, i) => Math.cos(i) * 0.05);
const fineTune = base.map((x, i) => x + 0.003 * Math.sin(i * 1.7) + 0.001);

function context(options: {
  density: number;
  weight?: number;
  dareRescale?: "paper" | "l1";
  global?: object;
}) {
  return taskContext({
    tensorName: TENSOR,
    base,
    models: [
      {
        model: "org/math-ft",
        data: fineTune,
        params: { weight: options.weight ?? 1, density: options.density },
      },
    ],
    seed: 42n,
    dareRescale: options.dareRescale ?? "paper",
    global: { ...options.global },
  });
}

/** The delta exactly as the spec defines it. */
function delta(): Float32Array {
  return Float32Array.from(fineTune, (x, i) => f32(f32(x) - f32(base[i]!)));
}

describe("dare_linear", () => {
  it("is mergekit's dare_linear", () => {
    expect(dareLinearMethod).toMatchObject({
      name: "dare_linear",
      prettyName: "Linear DARE",
      reference: "https://arxiv.org/abs/2311.03099",
    });
    const defaults = Object.fromEntries(dareLinearMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: true, lambda: 1 });
  });

  it("paper rescale: θ₀ + w·(m ⊙ δ / d), the mask from (seed, model, output tensor)", () => {
    const mask = dareMask(n, 42n, "org/math-ft", TENSOR, 0.3);
    const d = delta();
    const expected = Float32Array.from(base, (b, i) => {
      const kept = mask[i] ? f32(d[i]! / f32(0.3)) : 0;
      return f32(f32(b) + f32(1 * f32(f32(0.7) * kept)));
    });
    expect(dareLinearMethod.merge(context({ density: 0.3, weight: 0.7 }))).toEqual(expected);
  });

  it("l1 rescale: δ̃ = (m ⊙ δ) · f32(‖δ‖₁ / ‖m ⊙ δ‖₁)", () => {
    const mask = dareMask(n, 42n, "org/math-ft", TENSOR, 0.3);
    const d = delta();
    let before = 0;
    let after = 0;
    d.forEach((x, i) => {
      before += Math.abs(x);
      if (mask[i]) after += Math.abs(x);
    });
    const factor = f32(before / after); // n < 65536: one block, sequential
    const expected = Float32Array.from(base, (b, i) => f32(f32(b) + (mask[i] ? f32(d[i]! * factor) : 0)));
    expect(dareLinearMethod.merge(context({ density: 0.3, dareRescale: "l1" }))).toEqual(expected);
  });

  it("rescale: false only drops", () => {
    const mask = dareMask(n, 42n, "org/math-ft", TENSOR, 0.5);
    const d = delta();
    const expected = Float32Array.from(base, (b, i) => f32(f32(b) + (mask[i] ? d[i]! : 0)));
    expect(dareLinearMethod.merge(context({ density: 0.5, global: { rescale: false } }))).toEqual(expected);
  });

  it("is reproducible, and another seed gives another result", () => {
    const first = dareLinearMethod.merge(context({ density: 0.5 }));
    expect(dareLinearMethod.merge(context({ density: 0.5 }))).toEqual(first);
    const other = dareLinearMethod.merge({ ...context({ density: 0.5 }), seed: 43n });
    expect(other).not.toEqual(first);
  });
});
