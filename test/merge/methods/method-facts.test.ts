/** What each method module declares about itself, and that every reader of a fact agrees with it. */
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../src/manifest/parse.js";
import { validateManifest } from "../../../src/manifest/validate.js";
import { planMerge, type PlanRequest } from "../../../src/merge/kernels/plan.js";
import { ACCELERATED_METHODS, methodRegistry } from "../../../src/merge/methods/registry.js";
import { defineTaskFamilyMethod } from "../../../src/merge/methods/task-family.js";
import type { MergeMethod } from "../../../src/merge/types.js";
import { context, input } from "./basic-method-context.js";
import { taskContext } from "./task-context.js";

const TASK_FAMILY = [
  "task_arithmetic",
  "ties",
  "dare_linear",
  "dare_ties",
  "breadcrumbs",
  "breadcrumbs_ties",
  "della",
  "della_linear",
];
const methods = methodRegistry.names().map((name) => methodRegistry.get(name)!);

describe("every method declares its facts", () => {
  it("a one-sentence summary for the card", () => {
    for (const method of methods) expect(method.summary, method.name).toMatch(/^[a-z].*\.$/);
  });

  it("its shape policy and whether it drops at random", () => {
    const family = methods.filter((m) => m.shapePolicy === "task-family").map((m) => m.name);
    expect(family.sort()).toEqual([...TASK_FAMILY, "arcee_fusion"].sort());
    const random = methods.filter((m) => m.dropsAtRandom).map((m) => m.name);
    expect(random.sort()).toEqual(["dare_linear", "dare_ties", "della", "della_linear"]);
  });

  it("a hint beside every range, and density in (0, 1] wherever it appears", () => {
    for (const method of methods) {
      for (const spec of [...method.globalParams, ...method.perModelParams]) {
        if (spec.range) expect(spec.hint, `${method.name}.${spec.name}`).toBeTruthy();
        if (spec.name === "density") expect(spec.range).toEqual({ min: 0, minExclusive: true, max: 1 });
      }
    }
  });

  it("a kernel plan exactly where the kernels reproduce the reference", () => {
    expect([...ACCELERATED_METHODS].sort()).toEqual(
      [
        "task_arithmetic",
        "ties",
        "dare_linear",
        "dare_ties",
        "breadcrumbs",
        "breadcrumbs_ties",
        "linear",
        "nearswap",
        "sce",
      ].sort(),
    );
    const counted = defineTaskFamilyMethod({
      name: "ties_count",
      prettyName: "TIES (count)",
      reference: "https://example.org",
      summary: "counts signs.",
      sparsification: "magnitude",
      consensus: "count",
      defaultNormalize: true,
      defaultRescale: false,
    });
    // The kernels elect signs by weighted sum only.
    expect(counted.kernelPlan).toBeUndefined();
  });
});

/** The manifest, the reference merge and the kernel plan on one density value. */
function densityVerdicts(method: MergeMethod, density: number) {
  const manifest = parseManifest(
    `merge_method: ${method.name}\nbase_model: org/base\nmodels:\n  - model: org/a\n    parameters: {weight: 1, density: ${density}}\n`,
    "/work/m.yaml",
  );
  const params = { weight: 1, density };
  const request: PlanRequest = {
    method,
    global: {},
    models: [{ model: "org/a", params }],
    hasBase: true,
    count: 4,
    seed: 1n,
    dareRescale: "paper",
    tensorName: "model.layers.0.mlp.up_proj.weight",
  };
  const ctx = taskContext({ base: [0, 0, 0, 0], models: [{ model: "org/a", data: [1, 2, 3, 4], params }] });
  const accepts = (run: () => unknown) => {
    try {
      run();
      return true;
    } catch {
      return false;
    }
  };
  return {
    manifest: accepts(() => validateManifest(manifest, methodRegistry)),
    merge: accepts(() => method.merge(ctx)),
    plan: method.kernelPlan ? planMerge(request) !== undefined : undefined,
  };
}

describe("the manifest, the merge and the kernel plan read one density range", () => {
  for (const name of TASK_FAMILY.filter((n) => n !== "della" && n !== "della_linear")) {
    it(name, () => {
      const method = methodRegistry.get(name)!;
      const accelerated = method.kernelPlan !== undefined;
      for (const density of [0, -0.5, 1.5]) {
        expect(densityVerdicts(method, density), `density ${density}`).toEqual({
          manifest: false,
          merge: false,
          plan: accelerated ? false : undefined,
        });
      }
      for (const density of [1e-9, 0.5, 1]) {
        expect(densityVerdicts(method, density), `density ${density}`).toEqual({
          manifest: true,
          merge: true,
          plan: accelerated ? true : undefined,
        });
      }
    });
  }
});

describe("ranges hold at merge time too", () => {
  it("slerp refuses t outside [0, 1]", () => {
    const slerp = methodRegistry.get("slerp")!;
    const merge = (t: number) =>
      slerp.merge(context({ base: input("b", [1, 0]), inputs: [input("x", [0, 1])], global: { t } }));
    expect(() => merge(1)).not.toThrow();
    expect(() => merge(1.5)).toThrow(
      expect.objectContaining({ code: "E_MERGE", message: "slerp: t 1.5 is outside [0, 1]" }),
    );
  });

  it("della refuses epsilon outside [0, 1) and density ± epsilon outside (0, 1)", () => {
    const della = methodRegistry.get("della")!;
    const merge = (params: Record<string, number>) =>
      della.merge(taskContext({ base: [0, 0], models: [{ model: "org/a", data: [1, 2], params }] }));
    expect(() => merge({ weight: 1, density: 1, epsilon: 1 })).toThrow(/epsilon 1 is outside \[0, 1\)/);
    expect(() => merge({ weight: 1, density: 0.5, epsilon: 0.6 })).toThrow(/leaves \(0, 1\)/);
    expect(() => merge({ weight: 1, density: 0.5, epsilon: 0.1 })).not.toThrow();
  });

  it("linear refuses a weight that is not finite", () => {
    const linear = methodRegistry.get("linear")!;
    const ctx = context({ inputs: [input("a", [1], { weight: Infinity })], global: { normalize: false } });
    expect(() => linear.merge(ctx)).toThrow(expect.objectContaining({ code: "E_MERGE" }));
  });
});
