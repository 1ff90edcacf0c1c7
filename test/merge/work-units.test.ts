import { describe, expect, it } from "vitest";
import type { TensorRecipe } from "../../src/merge/plan/types.js";
import { workUnits } from "../../src/merge/work-units.js";

const recipe = (name: string, shape: number[], action: TensorRecipe["action"] = "merge"): TensorRecipe => ({
  name,
  sourceTensorName: name,
  shape,
  dtype: "BF16",
  action,
  base: undefined,
  inputs: [{ model: "a", tensor: name, params: {} }],
  global: {},
});

describe("workUnits", () => {
  it("cuts large splittable tensors into aligned pieces that cover them exactly", () => {
    const units = workUnits([recipe("big", [10, 50]), recipe("small", [40])], () => true, 100);
    expect(units.map((u) => [u.index, u.piece?.offset, u.piece?.count, u.last])).toEqual([
      [0, 0, 96, false],
      [0, 96, 96, false],
      [0, 192, 96, false],
      [0, 288, 96, false],
      [0, 384, 96, false],
      [0, 480, 20, true],
      [1, undefined, undefined, true],
    ]);
  });

  it("keeps whole what the kernels cannot split, copies, and tensors of one piece", () => {
    const asked: string[] = [];
    const units = workUnits(
      [recipe("no", [1000]), recipe("copy", [1000], "copy"), recipe("fits", [64]), recipe("yes", [100])],
      (r) => {
        asked.push(r.name);
        return r.name !== "no";
      },
      64,
    );
    expect(asked).toEqual(["no", "yes"]); // only tensors of several pieces are asked about
    expect(units.map((u) => [u.recipe.name, u.piece?.count])).toEqual([
      ["no", undefined],
      ["copy", undefined],
      ["fits", undefined],
      ["yes", 64],
      ["yes", 36],
    ]);
  });

  it("rounds the piece size down to the 16-element grid, and up to at least one group", () => {
    expect(workUnits([recipe("t", [100])], () => true, 40).map((u) => u.piece?.count)).toEqual([
      32, 32, 32, 4,
    ]);
    expect(workUnits([recipe("t", [40])], () => true, 3).map((u) => u.piece?.offset)).toEqual([0, 16, 32]);
  });
});
