import { describe, expect, it } from "vitest";
import {
  isElementwise,
  planMerge,
  type PlanRequest,
  type TaskPlan,
} from "../../../src/merge/kernels/plan.js";
import { methodRegistry } from "../../../src/merge/methods/registry.js";
import { keepThreshold } from "../../../src/merge/rng/dare-stream.js";

function request(method: string, change: Partial<PlanRequest> = {}): PlanRequest {
  return {
    method: methodRegistry.get(method)!,
    global: {},
    models: [
      { model: "org/a", params: { weight: 0.5, density: 0.3 } },
      { model: "org/b", params: { weight: 0.25, density: 1 } },
    ],
    hasBase: method !== "linear",
    count: 1000,
    seed: 1n,
    dareRescale: "paper",
    tensorName: "model.layers.0.mlp.up_proj.weight",
    ...change,
  };
}

/** The task-family (or linear) plan of a request; fails the test for any other kind. */
function taskPlan(req: PlanRequest): TaskPlan {
  const plan = planMerge(req);
  if (plan?.kind !== "task") throw new Error(`expected a task plan, got ${JSON.stringify(plan)}`);
  return plan;
}

describe("planMerge", () => {
  it("takes the method's defaults: dare_ties rescales by the density, does not normalize", () => {
    const plan = taskPlan(request("dare_ties"));
    expect(plan).toMatchObject({ hasBase: true, consensus: true, normalize: false, lambda: 1 });
    expect(plan.terms[0]!.sparsity).toMatchObject({
      mode: "dare",
      threshold: keepThreshold(0.3),
      rescale: true,
    });
    expect(plan.terms[0]!.sparsity).toHaveProperty("divisor", Math.fround(0.3));
    expect(plan.terms[1]!.sparsity).toEqual({ mode: "dense" }); // density 1: untouched, not rescaled
  });

  it("turns TIES and breadcrumbs densities into magnitude rank ranges", () => {
    expect(taskPlan(request("ties")).terms[0]!.sparsity).toEqual({ mode: "magnitude", from: 0, to: 300 });
    const crumbs = taskPlan(request("breadcrumbs", { global: {} }));
    expect(crumbs.terms[0]!.sparsity).toEqual({ mode: "magnitude", from: 10, to: 310 });
    expect(crumbs.consensus).toBe(false);
  });

  it("sums f32 weights for the plain divisor (1 when the sum is about 0)", () => {
    expect(taskPlan(request("task_arithmetic", { global: { normalize: true } })).plainDivisor).toBe(0.75);
    const cancelling = [
      { model: "a", params: { weight: 1 } },
      { model: "b", params: { weight: -1 } },
    ];
    expect(taskPlan(request("task_arithmetic", { models: cancelling })).plainDivisor).toBe(1);
    expect(taskPlan(request("linear", { global: { normalize: true } })).plainDivisor).toBe(0.75);
  });

  it.each<[string, string, Partial<PlanRequest>]>([
    ["slerp is not accelerated", "slerp", {}],
    ["DARE with L1 rescaling", "dare_ties", { dareRescale: "l1" }],
    ["TIES with L1 rescaling", "ties", { global: { rescale: true } }],
    ["a density above 1", "dare_linear", { models: [{ model: "a", params: { weight: 1, density: 1.5 } }] }],
    ["a missing weight", "task_arithmetic", { models: [{ model: "a", params: {} }] }],
    ["an infinite weight", "task_arithmetic", { models: [{ model: "a", params: { weight: Infinity } }] }],
    ["a non-boolean normalize", "ties", { global: { normalize: "yes" } }],
    ["linear without normalize resolved", "linear", { global: {} }],
    [
      "linear with weights summing to 0",
      "linear",
      { global: { normalize: true }, models: [{ model: "a", params: { weight: 0 } }] },
    ],
    ["no base for a task-family method", "dare_ties", { hasBase: false }],
    ["no models", "task_arithmetic", { models: [] }],
    ["an empty tensor", "task_arithmetic", { count: 0 }],
  ])("declines %s", (_why, method, change) => {
    expect(planMerge(request(method, change))).toBeUndefined();
  });

  it("accepts TIES with rescale when no model is sparsified", () => {
    const dense = [{ model: "a", params: { weight: 1, density: 1 } }];
    expect(planMerge(request("ties", { global: { rescale: true }, models: dense }))).toBeDefined();
  });

  it("plans nearswap with f32(t) and the 1e-6 floor, elementwise; sce with select_topk, whole-tensor", () => {
    const one = [{ model: "org/a", params: {} }];
    const nearswap = planMerge(request("nearswap", { models: one, global: { t: 0.1 } }))!;
    expect(nearswap).toEqual({ kind: "nearswap", t: Math.fround(0.1), minDistance: Math.fround(1e-6) });
    expect(isElementwise(nearswap)).toBe(true);
    const sce = planMerge(request("sce", { global: { select_topk: 0.3 } }))!;
    expect(sce).toEqual({ kind: "sce", selectTopK: 0.3, divisorFloor: Math.fround(1e-6) });
    expect(isElementwise(sce)).toBe(false);
    expect(planMerge(request("sce", { global: {} }))).toMatchObject({ selectTopK: 1 }); // the default
    expect(isElementwise(taskPlan(request("ties")))).toBe(false);
    expect(isElementwise(taskPlan(request("dare_ties")))).toBe(true);
  });

  it.each<[string, string, Partial<PlanRequest>]>([
    ["nearswap without t", "nearswap", { models: [{ model: "a", params: {} }], global: {} }],
    ["nearswap with a negative t", "nearswap", { models: [{ model: "a", params: {} }], global: { t: -1 } }],
    ["nearswap with two models", "nearswap", { global: { t: 0.1 } }],
    ["nearswap without a base", "nearswap", { hasBase: false, global: { t: 0.1 } }],
    ["sce with select_topk above 1", "sce", { global: { select_topk: 1.5 } }],
    ["sce with a non-boolean int8_mask", "sce", { global: { int8_mask: "yes" } }],
    ["sce without a base", "sce", { hasBase: false }],
  ])("declines %s", (_why, method, change) => {
    expect(planMerge(request(method, change))).toBeUndefined();
  });
});
