import { describe, expect, it } from "vitest";
import { dellaMethod } from "../../../src/merge/methods/della.js";
import { dellaSparsify } from "../../../src/merge/kernels/reference/primitives.js";
import { dareStream } from "../../../src/merge/rng/dare-stream.js";
import { taskContext } from "./task-context.js";

const f32 = Math.fround;
const TENSOR = "model.layers.1.mlp.down_proj.weight";
const shape = [40, 50];
const n = 2000;
const delta = (k: number) => Float32Array.from({ length: n }, (_, i) => f32(0.004 * Math.sin(i * k + k)));

describe("della", () => {
  it("is mergekit's della", () => {
    expect(dellaMethod).toMatchObject({
      name: "della",
      prettyName: "DELLA",
      reference: "https://arxiv.org/abs/2406.11617",
    });
    const defaults = Object.fromEntries(dellaMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: true, rescale: true, lambda: 1 });
    const perModel = Object.fromEntries(dellaMethod.perModelParams.map((p) => [p.name, p.default]));
    expect(perModel).toEqual({ weight: undefined, density: 1, epsilon: 0.15 });
  });

  it("prunes rows of the last dimension with the DARE stream, then elects signs and normalises", () => {
    const [da, db] = [delta(1.3), delta(0.4)];
    const ctx = taskContext({
      tensorName: TENSOR,
      base: { data: new Array<number>(n).fill(0), shape },
      models: [
        { model: "org/a", data: Array.from(da), shape, params: { weight: 1, density: 0.5, epsilon: 0.2 } },
        { model: "org/b", data: Array.from(db), shape, params: { weight: 0.5, density: 0.4 } },
      ],
      seed: 3n,
    });
    dellaSparsify(da, 50, dareStream(3n, "org/a", TENSOR), 0.5, 0.2, true);
    dellaSparsify(db, 50, dareStream(3n, "org/b", TENSOR), 0.4, 0.15, true);
    const expected = new Float32Array(n).map((_, i) => {
      const wa = da[i]!;
      const wb = f32(f32(0.5) * db[i]!);
      const sign = f32(wa + wb) >= 0 ? 1 : -1;
      let mixed = 0;
      let divisor = 0;
      if (Math.sign(wa) === sign) [mixed, divisor] = [f32(mixed + wa), f32(divisor + 1)];
      if (Math.sign(wb) === sign) [mixed, divisor] = [f32(mixed + wb), f32(divisor + f32(0.5))];
      return f32(0 + f32(1 * f32(mixed / (divisor === 0 ? 1 : divisor))));
    });
    expect(dellaMethod.merge(ctx)).toEqual(expected);
  });

  it("keeps about density of the elements", () => {
    const ctx = taskContext({
      base: { data: new Array<number>(n).fill(0), shape },
      models: [{ model: "org/a", data: Array.from(delta(2.1)), shape, params: { weight: 1, density: 0.3 } }],
    });
    const kept = dellaMethod.merge(ctx).filter((x) => x !== 0).length;
    expect(Math.abs(kept - 0.3 * n)).toBeLessThan(6 * Math.sqrt(n * 0.3 * 0.7));
  });
});
