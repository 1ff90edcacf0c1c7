/**
 * The task family's definition (what distinguishes ties from dare_linear, …) and the parameters
 * it gives a method: one place for their defaults, ranges and hints, read by the merge
 * (task-family.ts), its kernel plan (task-family-plan.ts) and, through the ParamSpecs, the manifest.
 */
import type { Sparsification } from "../kernels/reference/sparsify.js";
import type { ParamSpec } from "../types.js";

export type { Sparsification } from "../kernels/reference/sparsify.js";
export type Consensus = "sum" | "count";

export interface TaskFamilyDefinition {
  name: string;
  prettyName: string;
  reference: string;
  /** One sentence for the model card. */
  summary: string;
  sparsification?: Sparsification;
  consensus?: Consensus;
  defaultNormalize: boolean;
  defaultRescale: boolean;
}

/** The family's parameters; gamma and epsilon only where the sparsification uses them. */
export interface TaskFamilySpecs {
  int8Mask: ParamSpec;
  normalize: ParamSpec;
  rescale: ParamSpec;
  lambda: ParamSpec;
  weight: ParamSpec;
  density: ParamSpec;
  gamma?: ParamSpec;
  epsilon?: ParamSpec;
}

/** The parameter specs of a method of the family. */
export function taskFamilySpecs(definition: TaskFamilyDefinition): TaskFamilySpecs {
  return {
    int8Mask: {
      name: "int8_mask",
      type: "boolean",
      default: false,
      description: "Accepted for mergekit compatibility (a memory saving there); no effect on the result.",
    },
    normalize: {
      name: "normalize",
      type: "boolean",
      default: definition.defaultNormalize,
      description: "Divide the mixed task vector by the sum of the (agreeing) weights.",
    },
    rescale: {
      name: "rescale",
      type: "boolean",
      default: definition.defaultRescale,
      description:
        "Rescale sparsified task vectors (DARE/DELLA: see dare_rescale; others: L1 norm matching).",
    },
    lambda: { name: "lambda", type: "number", default: 1, description: "Scale of the mixed task vector." },
    weight: {
      name: "weight",
      type: "number",
      required: true,
      description: "Weight of this model's task vector.",
    },
    density: {
      name: "density",
      type: "number",
      default: 1,
      // 0 is refused: it keeps nothing (mergekit's magnitude sparsification asserts on it) and the
      // paper's 1/density rescale is undefined there; leave the model out instead.
      range: { min: 0, minExclusive: true, max: 1 },
      hint: "density is the fraction of each task vector kept: 0.3 keeps 30%, 1 keeps all of it.",
      description: "Fraction of the task vector kept.",
    },
    ...(definition.sparsification === "magnitude_outliers" && {
      gamma: {
        name: "gamma",
        type: "number",
        default: 0.01,
        range: { min: 0, max: 1 },
        hint: "gamma is the fraction of largest task-vector entries dropped; 0.01 is mergekit's default.",
        description: "Fraction of largest values dropped.",
      },
    }),
    ...(definition.sparsification === "della_magprune" && {
      epsilon: {
        name: "epsilon",
        type: "number",
        default: 0.15,
        range: { min: 0, max: 1, maxExclusive: true },
        hint: "epsilon spreads DELLA's keep probabilities to density ± epsilon; 0.15 is mergekit's default.",
        description: "Spread of keep probabilities around density (d ± ε must lie in (0, 1)).",
      },
    }),
  };
}
