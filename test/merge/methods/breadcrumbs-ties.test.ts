import { describe, expect, it } from "vitest";
import { breadcrumbsTiesMethod } from "../../../src/merge/methods/breadcrumbs-ties.js";
import { f32s, taskContext } from "./task-context.js";

describe("breadcrumbs_ties", () => {
  it("is mergekit's breadcrumbs_ties", () => {
    expect(breadcrumbsTiesMethod).toMatchObject({
      name: "breadcrumbs_ties",
      prettyName: "Model Breadcrumbs with TIES",
      reference: "https://arxiv.org/abs/2312.06795",
    });
    const defaults = Object.fromEntries(breadcrumbsTiesMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: false, lambda: 1 });
  });

  it("sparsifies by outliers, then keeps the values agreeing with the elected sign", () => {
    const params = { weight: 1, density: 0.5, gamma: 0.1 };
    const ctx = taskContext({
      base: new Array<number>(10).fill(0),
      models: [
        { model: "a", data: [1, -2, 3, -4, 5, -6, 7, -8, 9, -10], params }, // → [0,0,0,0,5,−6,7,−8,9,0]
        { model: "c", data: new Array<number>(10).fill(-1), params }, // equal magnitudes: keeps indices 1–5
      ],
    });
    expect(breadcrumbsTiesMethod.merge(ctx)).toEqual(f32s([0, -1, -1, -1, 5, -7, 7, -8, 9, 0]));
  });
});
