import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import {
  gradientPosition,
  interpolateGradient,
  layerPositionOf,
  resolveParams,
  resolveSetting,
} from "../../src/merge/params.js";
import type { ParamSetting, ParamSettings } from "../../src/manifest/types.js";
import type { ParamSpec } from "../../src/merge/types.js";

const MLP = "model.layers.1.mlp.up_proj.weight";
const ATTN = "model.layers.1.self_attn.q_proj.weight";
const NORM = "model.norm.weight";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("layerPositionOf", () => {
  it("finds llama/mistral, gpt2 and blocks-style layer indices", () => {
    expect(layerPositionOf("model.layers.3.mlp.up_proj.weight", 32)).toEqual({ index: 3, count: 32 });
    expect(layerPositionOf("transformer.h.11.attn.c_attn.weight", 12)).toEqual({ index: 11, count: 12 });
    expect(layerPositionOf("blocks.0.attn.weight", 4)).toEqual({ index: 0, count: 4 });
    expect(layerPositionOf("gpt_neox.layers.5.attention.dense.bias", 6)).toEqual({ index: 5, count: 6 });
    expect(layerPositionOf("bert.encoder.layer.2.output.dense.weight", 12)).toEqual({ index: 2, count: 12 });
  });

  it("leaves tensors outside the layer stack without a position", () => {
    for (const name of [
      "model.embed_tokens.weight",
      "model.norm.weight",
      "lm_head.weight",
      "transformer.wte.weight",
    ]) {
      expect(layerPositionOf(name, 32)).toBeUndefined();
    }
    expect(layerPositionOf("model.mlp_layers.3.weight", 32)).toBeUndefined();
  });

  it("rejects an index beyond the layer count", () => {
    const error = caught(() => layerPositionOf("model.layers.40.mlp.weight", 32));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
  });
});

describe("gradients", () => {
  it("interpolates 3 anchors over 5 layers like mergekit", () => {
    const gradient = [0, 1, 0.5];
    const values = [0, 1, 2, 3, 4].map((index) => resolveSetting(gradient, MLP, { index, count: 5 }));
    expect(values).toEqual([0, 0.5, 1, 0.75, 0.5]);
  });

  it("uses mergekit's expression (1 − frac)·g[i0] + frac·g[i1] in f64", () => {
    const gradient = [0.1, 0.9, 0.3];
    const t = 3 / 7;
    const scaled = t * 2;
    const frac = scaled - 0;
    expect(interpolateGradient(gradient, t)).toBe((1 - frac) * 0.1 + frac * 0.9);
    expect(resolveSetting([0, 1], MLP, { index: 1, count: 4 })).toBe(1 / 3);
  });

  it("gives the single anchor everywhere", () => {
    expect(resolveSetting([0.7], MLP, { index: 2, count: 5 })).toBe(0.7);
    expect(resolveSetting([0.7], NORM, undefined)).toBe(0.7);
  });

  it("takes t = 0 outside layers and t = 1 for a one-layer stack (mergekit)", () => {
    expect(gradientPosition(undefined)).toBe(0);
    expect(gradientPosition({ index: 0, count: 1 })).toBe(1);
    expect(resolveSetting([0.2, 0.8], NORM, undefined)).toBe(0.2);
    expect(resolveSetting([0.2, 0.8], MLP, { index: 0, count: 1 })).toBe(0.8);
  });

  it("rejects empty and mixed lists", () => {
    expect(
      isHubmergeError(
        caught(() => resolveSetting([], MLP, undefined)),
        "E_MERGE",
      ),
    ).toBe(true);
    const mixed = [1, { value: 2 }] as unknown as ParamSetting;
    expect(
      isHubmergeError(
        caught(() => resolveSetting(mixed, MLP, undefined)),
        "E_MERGE",
      ),
    ).toBe(true);
  });
});

describe("filters", () => {
  const filtered: ParamSetting = [
    { filter: "mlp", value: 0.3 },
    { filter: "self_attn", value: 0.6 },
    { value: 0.5 },
  ];

  it("picks the first entry whose filter is in the tensor name, else the fallback", () => {
    expect(resolveSetting(filtered, MLP, undefined)).toBe(0.3);
    expect(resolveSetting(filtered, ATTN, undefined)).toBe(0.6);
    expect(resolveSetting(filtered, NORM, undefined)).toBe(0.5);
  });

  it("lets the first of several matching filters win", () => {
    const setting: ParamSetting = [
      { filter: "layers.1.", value: 1 },
      { filter: "mlp", value: 2 },
    ];
    expect(resolveSetting(setting, MLP, undefined)).toBe(1);
  });

  it("treats '*' as matching everything and an early fallback as shadowing later filters", () => {
    expect(resolveSetting([{ filter: "*", value: 4 }], NORM, undefined)).toBe(4);
    const early: ParamSetting = [{ value: 0.5 }, { filter: "mlp", value: 0.3 }];
    expect(resolveSetting(early, MLP, undefined)).toBe(0.5);
  });

  it("returns undefined when nothing matches", () => {
    expect(resolveSetting([{ filter: "mlp", value: 1 }], ATTN, undefined)).toBeUndefined();
  });

  it("evaluates a gradient value at the tensor's layer", () => {
    const setting: ParamSetting = [{ filter: "mlp", value: [0, 1] }, { value: 9 }];
    expect(resolveSetting(setting, MLP, { index: 1, count: 3 })).toBe(0.5);
  });

  it("passes booleans and strings through", () => {
    expect(resolveSetting(true, MLP, undefined)).toBe(true);
    expect(resolveSetting([{ filter: "mlp", value: "x" }], MLP, undefined)).toBe("x");
  });
});

describe("resolveParams", () => {
  const specs: ParamSpec[] = [
    { name: "weight", type: "number", required: true, description: "weight" },
    { name: "density", type: "number", default: 1, description: "density" },
    { name: "normalize", type: "boolean", default: true, description: "normalize" },
    { name: "gamma", type: "number", description: "optional, no default" },
  ];

  it("takes the highest level that sets a parameter, then defaults", () => {
    const params = resolveParams(specs, [{ weight: 0.7 }, { weight: 0.1, density: 0.4 }], MLP, undefined);
    expect(params).toEqual({ weight: 0.7, density: 0.4, normalize: true });
  });

  it("falls through a level whose filters do not match", () => {
    const model = { weight: [{ filter: "self_attn", value: 0.9 }] };
    const params = resolveParams(specs, [model, { weight: 0.2 }], MLP, undefined);
    expect(params.weight).toBe(0.2);
    expect(resolveParams(specs, [model, { weight: 0.2 }], ATTN, undefined).weight).toBe(0.9);
  });

  it("resolves slice source > slice > global with gradients at the layer", () => {
    const levels: ParamSettings[] = [
      { density: [{ filter: "mlp", value: 0.9 }] },
      { density: [0, 1] },
      { density: 0.3, weight: 1 },
    ];
    expect(resolveParams(specs, levels, MLP, { index: 2, count: 5 }).density).toBe(0.9);
    expect(resolveParams(specs, levels, ATTN, { index: 2, count: 5 }).density).toBe(0.5);
    expect(resolveParams(specs, levels, NORM, undefined).density).toBe(0);
    expect(resolveParams(specs, levels, NORM, undefined).weight).toBe(1);
  });

  it("ignores parameters the method does not declare", () => {
    expect(resolveParams(specs, [{ weight: 1, unknown: 3 }], MLP, undefined)).not.toHaveProperty("unknown");
  });

  it("reports a wrong type with the model and tensor", () => {
    const error = caught(() =>
      resolveParams(specs, [{ weight: 1, normalize: "yes" }], MLP, undefined, { model: "org/a" }),
    );
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
    expect((error as { where: unknown }).where).toEqual({ model: "org/a", tensor: MLP });
  });

  it("reads 0 and 1 as booleans, as mergekit does", () => {
    expect(resolveParams(specs, [{ weight: 1, normalize: 1 }], MLP, undefined).normalize).toBe(true);
    expect(resolveParams(specs, [{ weight: 1, normalize: 0 }], MLP, undefined).normalize).toBe(false);
  });

  it("requires required parameters unless told otherwise (the base model)", () => {
    const error = caught(() => resolveParams(specs, [{}], MLP, undefined, { model: "org/a" }));
    expect(isHubmergeError(error, "E_MERGE")).toBe(true);
    expect(resolveParams(specs, [{}], MLP, undefined, { enforceRequired: false })).toEqual({
      density: 1,
      normalize: true,
    });
  });
});
