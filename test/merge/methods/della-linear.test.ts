import { describe, expect, it } from "vitest";
import { dellaLinearMethod } from "../../../src/merge/methods/della-linear.js";
import { dellaSparsify, l1NormF64 } from "../../../src/merge/kernels/reference/primitives.js";
import { dareStream } from "../../../src/merge/rng/dare-stream.js";
import { taskContext } from "./task-context.js";

const f32 = Math.fround;
const TENSOR = "model.layers.2.self_attn.q_proj.weight";
const shape = [8, 16];
const data = Array.from({ length: 128 }, (_, i) => f32(0.01 * Math.sin(i * 0.9)));

describe("della_linear", () => {
  it("is mergekit's della_linear", () => {
    expect(dellaLinearMethod).toMatchObject({ name: "della_linear", prettyName: "Linear DELLA" });
    const defaults = Object.fromEntries(dellaLinearMethod.globalParams.map((p) => [p.name, p.default]));
    expect(defaults).toEqual({ int8_mask: false, normalize: false, rescale: true, lambda: 1 });
  });

  it("with dare_rescale l1 matches the L1 norm of the unpruned task vector", () => {
    const ctx = taskContext({
      tensorName: TENSOR,
      base: { data: new Array<number>(128).fill(0), shape },
      models: [{ model: "org/a", data, shape, params: { weight: 2, density: 0.6, epsilon: 0.1 } }],
      dareRescale: "l1",
      seed: 11n,
    });
    const pruned = Float32Array.from(data);
    dellaSparsify(pruned, 16, dareStream(11n, "org/a", TENSOR), 0.6, 0.1, false);
    const factor = f32(l1NormF64(Float32Array.from(data)) / l1NormF64(pruned));
    const expected = pruned.map((x) => f32(0 + f32(1 * f32(f32(2) * f32(x * factor)))));
    expect(dellaLinearMethod.merge(ctx)).toEqual(expected);
  });

  it("rejects density ± epsilon outside (0, 1), naming model and tensor", () => {
    const ctx = taskContext({
      tensorName: TENSOR,
      base: { data: new Array<number>(128).fill(0), shape },
      models: [{ model: "org/a", data, shape, params: { weight: 1, density: 0.9, epsilon: 0.15 } }],
    });
    expect(() => dellaLinearMethod.merge(ctx)).toThrow(
      expect.objectContaining({ code: "E_MERGE", where: { model: "org/a", tensor: TENSOR } }),
    );
  });
});
