/** Shared helpers for the manifest tests: error assertions and small fake merge methods. */
import { expect } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import type { HubmergeError } from "../../src/errors.js";
import type { MergeMethod, ParamSpec } from "../../src/merge/types.js";
import type { MethodLookup } from "../../src/manifest/validate.js";

/** Runs `fn`, expects E_MANIFEST at `line`:`column`, and returns the error for further checks. */
export function expectManifestError(
  fn: () => unknown,
  line: number,
  column: number,
  message?: RegExp,
): HubmergeError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  if (!isHubmergeError(caught)) throw new Error(`expected a HubmergeError, got ${String(caught)}`);
  expect(caught.code).toBe("E_MANIFEST");
  expect({ line: caught.where.line, column: caught.where.column, message: caught.message }).toMatchObject({
    line,
    column,
  });
  if (message !== undefined) expect(caught.message).toMatch(message);
  expect(caught.hint ?? "").not.toBe("");
  return caught;
}

const weight: ParamSpec = {
  name: "weight",
  type: "number",
  required: true,
  description: "the model's weight",
};
const density: ParamSpec = {
  name: "density",
  type: "number",
  default: 1,
  range: { min: 0, minExclusive: true, max: 1 },
  hint: "density is the fraction of each task vector kept.",
  description: "fraction kept",
};
const normalize: ParamSpec = {
  name: "normalize",
  type: "boolean",
  default: true,
  description: "divide by Σw",
};
const lambda: ParamSpec = { name: "lambda", type: "number", default: 1, description: "scale" };

type FakeDefinition = Omit<MergeMethod, "prettyName" | "merge" | "summary" | "shapePolicy" | "dropsAtRandom">;

function fake(definition: FakeDefinition): MergeMethod {
  return {
    prettyName: definition.name,
    summary: `fake ${definition.name}`,
    shapePolicy: "strict",
    dropsAtRandom: false,
    merge: () => {
      throw new Error("fake method");
    },
    ...definition,
  };
}

const taskFamily = (name: string, extra: ParamSpec[] = []): MergeMethod =>
  fake({
    name,
    base: "required",
    minModels: 1,
    globalParams: [normalize, lambda, { name: "int8_mask", type: "boolean", description: "ignored" }],
    perModelParams: [weight, density, ...extra],
  });

export const FAKE_METHODS: MergeMethod[] = [
  taskFamily("task_arithmetic"),
  taskFamily("ties"),
  taskFamily("dare_ties"),
  taskFamily("della", [
    {
      name: "epsilon",
      type: "number",
      default: 0.15,
      range: { min: 0, max: 1, maxExclusive: true },
      description: "spread",
    },
  ]),
  taskFamily("breadcrumbs", [
    { name: "gamma", type: "number", default: 0.01, range: { min: 0, max: 1 }, description: "outliers" },
  ]),
  fake({ name: "linear", base: "none", minModels: 1, globalParams: [normalize], perModelParams: [weight] }),
  fake({
    name: "slerp",
    base: "required",
    minModels: 1,
    maxModels: 1,
    globalParams: [
      {
        name: "t",
        type: "number",
        required: true,
        range: { min: 0, max: 1 },
        description: "interpolation factor",
      },
    ],
    perModelParams: [],
  }),
  fake({
    name: "passthrough",
    base: "none",
    minModels: 1,
    maxModels: 1,
    globalParams: [],
    perModelParams: [{ name: "scale", type: "number", description: "factor" }],
  }),
];

export const fakeLookup: MethodLookup = {
  get: (name) => FAKE_METHODS.find((m) => m.name === name),
  names: () => FAKE_METHODS.map((m) => m.name),
};

/** The example manifest of DESIGN.md §3 (with a full-length revision). */
export const DESIGN_EXAMPLE = `merge_method: dare_ties
base_model: mistralai/Mistral-7B-v0.1
models:
  - model: org/math-ft@4f1c2e9a        # pin a revision, or let the lockfile pin it
    parameters: {weight: 0.5, density: 0.3}
  - model: org/code-ft
    parameters:
      density: 0.3
      weight: [{filter: mlp, value: [0.3, 0.6]}, {value: 0.5}]
parameters: {normalize: false}
dtype: bfloat16
hubmerge:
  output: {repo: me/math-code-7b, private: false, license: apache-2.0}
  seed: 1234
`;
