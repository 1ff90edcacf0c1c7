import { describe, expect, it } from "vitest";
import { dareTiesMethod } from "../../../src/merge/methods/dare-ties.js";
import { dareMask } from "../../../src/merge/rng/dare-stream.js";
import { taskContext } from "./task-context.js";

const f32 = Math.fround;
const TENSOR = "model.layers.0.mlp.gate_proj.weight";
const n = 2000;
const base = new Array<number>(n).fill(0.25);
const deltaA = Array.from({ length: n }, (_, i) => f32(0.004 * Math.sin(i)));
const deltaB = Array.from({ length: n }, (_, i) => f32(0.003 * Math.cos(i * 0.7)));

describe("dare_ties", () => {
  it("is mergekit's dare_ties", () => {
    expect(dareTiesMethod).toMatchObject({
      name: "dare_ties",
      prettyName: "DARE TIES",
      reference: "https://arxiv.org/abs/2311.03099",
    });
    const defaults = Object.fromEntries(dareTiesMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: true, lambda: 1 });
  });

  it("drops and rescales each model by its own stream, then keeps the elected sign", () => {
    const ctx = taskContext({
      tensorName: TENSOR,
      base,
      models: [
        { model: "org/a", data: deltaA.map((d) => f32(0.25) + d), params: { weight: 0.6, density: 0.4 } },
        { model: "org/b", data: deltaB.map((d) => f32(0.25) + d), params: { weight: 0.8, density: 0.7 } },
      ],
      seed: 7n,
      global: { lambda: 1.5 },
    });
    const maskA = dareMask(n, 7n, "org/a", TENSOR, 0.4);
    const maskB = dareMask(n, 7n, "org/b", TENSOR, 0.7);
    const b0 = f32(0.25);
    const expected = new Float32Array(n).map((_, i) => {
      const da = f32(f32(b0 + deltaA[i]!) - b0);
      const db = f32(f32(b0 + deltaB[i]!) - b0);
      const wa = f32(f32(0.6) * (maskA[i] ? f32(da / f32(0.4)) : 0));
      const wb = f32(f32(0.8) * (maskB[i] ? f32(db / f32(0.7)) : 0));
      const sign = f32(f32(0 + wa) + wb) >= 0 ? 1 : -1;
      let mixed = 0;
      if (Math.sign(wa) === sign) mixed = f32(mixed + wa);
      if (Math.sign(wb) === sign) mixed = f32(mixed + wb);
      return f32(b0 + f32(f32(1.5) * mixed));
    });
    expect(dareTiesMethod.merge(ctx)).toEqual(expected);
  });
});
