import { describe, expect, it } from "vitest";
import { breadcrumbsMethod } from "../../../src/merge/methods/breadcrumbs.js";
import { f32s, taskContext } from "./task-context.js";

const zeros = new Array<number>(10).fill(0);
const ramp = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10];

describe("breadcrumbs", () => {
  it("is mergekit's breadcrumbs", () => {
    expect(breadcrumbsMethod).toMatchObject({
      name: "breadcrumbs",
      prettyName: "Model Breadcrumbs",
      reference: "https://arxiv.org/abs/2312.06795",
    });
    const perModel = Object.fromEntries(breadcrumbsMethod.perModelParams.map((p) => [p.name, p.default]));
    expect(perModel).toEqual({ weight: undefined, density: 1, gamma: 0.01 });
    const defaults = Object.fromEntries(breadcrumbsMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: false, lambda: 1 });
  });

  it("drops the ⌊γn⌋ largest and the smallest, keeping ⌊dn⌋", () => {
    const ctx = taskContext({
      base: zeros,
      models: [{ model: "a", data: ramp, params: { weight: 0.5, density: 0.5, gamma: 0.1 } }],
    });
    expect(breadcrumbsMethod.merge(ctx)).toEqual(f32s([0, 0, 0, 0, 2.5, -3, 3.5, -4, 4.5, 0]));
  });

  it("drops no large values when ⌊γn⌋ = 0 (mergekit would drop everything)", () => {
    const ctx = taskContext({
      base: zeros,
      models: [{ model: "a", data: ramp, params: { weight: 1, density: 0.5 } }],
    });
    expect(breadcrumbsMethod.merge(ctx)).toEqual(f32s([0, 0, 0, 0, 0, -6, 7, -8, 9, -10]));
  });

  it("removes fewer large values when the bottom count would be negative", () => {
    const ctx = taskContext({
      base: zeros,
      models: [{ model: "a", data: ramp, params: { weight: 1, density: 0.9, gamma: 0.3 } }],
    });
    // keep 9, top 3 → bottom −2 → top 1, bottom 0.
    expect(breadcrumbsMethod.merge(ctx)).toEqual(f32s([1, -2, 3, -4, 5, -6, 7, -8, 9, 0]));
  });
});
