import { describe, expect, it } from "vitest";
import { tiesMethod } from "../../../src/merge/methods/ties.js";
import { f32s, taskContext } from "./task-context.js";

const base = [1, 1, 1, 1, 1, 1];
const plus = (delta: number[]) => delta.map((d, i) => base[i]! + d);
const a = plus([3, -1, 0, 2, 1, -2]);
const c = plus([-1, 2, 0, -2, 1, 2]);

describe("ties", () => {
  it("is mergekit's ties", () => {
    expect(tiesMethod).toMatchObject({
      name: "ties",
      prettyName: "TIES",
      reference: "https://arxiv.org/abs/2306.01708",
    });
    const defaults = Object.fromEntries(tiesMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: true, rescale: false, lambda: 1 });
  });

  it("elects signs by sum (a tie and zeros go to +) and averages the agreeing values", () => {
    const ctx = taskContext({
      base,
      models: [
        { model: "a", data: a, params: { weight: 1 } },
        { model: "c", data: c, params: { weight: 1 } },
      ],
    });
    // S = [2, 1, 0, 0 (tie), 2, 0 (tie)] → all +; element 2: nobody agrees → divisor 1 → 0.
    expect(tiesMethod.merge(ctx)).toEqual(f32s(plus([3, 2, 0, 2, 1, 2])));
  });

  it("trims each task vector to its ⌊d·n⌋ largest magnitudes first (ties by index)", () => {
    const ctx = taskContext({
      base,
      models: [
        { model: "a", data: a, params: { weight: 1, density: 0.5 } }, // keeps 3, 2, −2
        { model: "c", data: c, params: { weight: 1, density: 0.5 } }, // keeps 2, −2, 2
      ],
    });
    expect(tiesMethod.merge(ctx)).toEqual(f32s(plus([3, 2, 0, 2, 0, 2])));
  });

  it("weights the election and the divisor", () => {
    const models = [
      { model: "a", data: a, params: { weight: 0.5 } },
      { model: "c", data: c, params: { weight: 1 } },
    ];
    // wδa = [1.5, −0.5, 0, 1, 0.5, −1], wδc = [−1, 2, 0, −2, 1, 2]; signs [+, +, +, −, +, +].
    expect(tiesMethod.merge(taskContext({ base, models }))).toEqual(f32s(plus([3, 2, 0, -2, 1, 2])));
    const raw = taskContext({ base, models, global: { normalize: false } });
    expect(tiesMethod.merge(raw)).toEqual(f32s(plus([1.5, 2, 0, -2, 1.5, 2])));
  });
});
