import { describe, expect, it } from "vitest";
import {
  readBoolean,
  readNumber,
  siteOf,
  validBoolean,
  validNumber,
} from "../../../src/merge/methods/param-reader.js";
import type { ParamSpec } from "../../../src/merge/types.js";

const TENSOR = "model.layers.0.mlp.up_proj.weight";
const density: ParamSpec = {
  name: "density",
  type: "number",
  default: 1,
  range: { min: 0, minExclusive: true, max: 1 },
  hint: "density is a fraction.",
  description: "fraction kept",
};
const weight: ParamSpec = { name: "weight", type: "number", required: true, description: "weight" };
const normalize: ParamSpec = { name: "normalize", type: "boolean", default: true, description: "divide" };

const perModel = siteOf("ties", { tensorName: TENSOR }, "org/a");
const global = siteOf("ties", { tensorName: TENSOR });

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("readNumber", () => {
  it("reads the setting, else the spec's default", () => {
    expect(readNumber(density, { density: 0.3 }, perModel)).toBe(0.3);
    expect(readNumber(density, {}, perModel)).toBe(1);
  });

  it("refuses a missing required parameter, at the model and tensor", () => {
    expect(caught(() => readNumber(weight, {}, perModel))).toMatchObject({
      code: "E_MERGE",
      message: "ties: the parameter weight is required",
      where: { model: "org/a", tensor: TENSOR },
    });
    const error = caught(() => readNumber(weight, {}, global)) as { where: object; hint: string };
    expect(error.where).toEqual({ tensor: TENSOR });
    expect(error.hint).toMatch(/global parameters/);
  });

  it.each([["x"], [true], [Number.NaN], [Infinity]])("refuses %s as a number", (value) => {
    expect(caught(() => readNumber(weight, { weight: value }, perModel))).toMatchObject({
      code: "E_MERGE",
      message: expect.stringContaining("must be a finite number"),
    });
  });

  it("refuses a value outside the spec's range with the spec's hint", () => {
    expect(caught(() => readNumber(density, { density: 0 }, perModel))).toMatchObject({
      code: "E_MERGE",
      message: "ties: density 0 is outside (0, 1]",
      hint: "density is a fraction.",
    });
    const noHint = { ...density, hint: undefined };
    expect(caught(() => readNumber(noHint, { density: 1.5 }, perModel))).toMatchObject({
      hint: "Give density a value in (0, 1].",
    });
  });
});

describe("readBoolean", () => {
  it("reads the setting or the default, and refuses anything else", () => {
    expect(readBoolean(normalize, { normalize: false }, global)).toBe(false);
    expect(readBoolean(normalize, {}, global)).toBe(true);
    expect(caught(() => readBoolean(normalize, { normalize: 1 }, global))).toMatchObject({
      code: "E_MERGE",
      message: "ties: the parameter normalize must be true or false, got 1",
    });
  });
});

describe("validNumber and validBoolean (for kernel plans)", () => {
  it("give the value when the reader would accept it, else undefined", () => {
    expect(validNumber(density, 0.5)).toBe(0.5);
    expect([0, 1.5, Number.NaN, "0.5", undefined].map((v) => validNumber(density, v))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(validNumber(weight, -3)).toBe(-3);
    expect([true, false, "true", 1, undefined].map(validBoolean)).toEqual([
      true,
      false,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
