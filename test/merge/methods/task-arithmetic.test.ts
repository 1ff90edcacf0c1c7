import { describe, expect, it } from "vitest";
import { taskArithmeticMethod } from "../../../src/merge/methods/task-arithmetic.js";
import { f32s, taskContext } from "./task-context.js";

const models = [
  { model: "org/a", data: [1.5, 2, 2, 4.25], params: { weight: 0.5 } },
  { model: "org/b", data: [0, 2.5, 3, 4], params: { weight: 1 } },
];

describe("task_arithmetic", () => {
  it("is mergekit's task_arithmetic", () => {
    expect(taskArithmeticMethod).toMatchObject({
      name: "task_arithmetic",
      prettyName: "Task Arithmetic",
      reference: "https://arxiv.org/abs/2212.04089",
      base: "required",
      minModels: 1,
    });
    const defaults = Object.fromEntries(taskArithmeticMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: false, lambda: 1 });
  });

  it("adds the weighted task vectors to the base", () => {
    // δa = [0.5, 0, −1, 0.25], δb = [−1, 0.5, 0, 0]; M = 0.5·δa + δb.
    const ctx = taskContext({ base: [1, 2, 3, 4], models });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([0.25, 2.5, 2.5, 4.125]));
  });

  it("scales the mixed vector by lambda", () => {
    const ctx = taskContext({ base: [1, 2, 3, 4], models, global: { lambda: 2 } });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([-0.5, 3, 2, 4.25]));
  });

  it("rounds each step to f32", () => {
    const ctx = taskContext({ base: [0.1], models: [{ model: "m", data: [0.7], params: { weight: 0.3 } }] });
    const f32 = Math.fround;
    const delta = f32(f32(0.7) - f32(0.1));
    expect(taskArithmeticMethod.merge(ctx)[0]).toBe(f32(f32(0.1) + f32(1 * f32(f32(0.3) * delta))));
  });

  it("ignores density and int8_mask", () => {
    const sparse = models.map((m) => ({ ...m, params: { ...m.params, density: 0.1 } }));
    const ctx = taskContext({ base: [1, 2, 3, 4], models: sparse, global: { int8_mask: true } });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([0.25, 2.5, 2.5, 4.125]));
  });
});
