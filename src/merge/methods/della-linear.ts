/** DELLA's MAGPRUNE with a plain weighted sum. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dellaLinearMethod: MergeMethod = defineTaskFamilyMethod({
  name: "della_linear",
  prettyName: "Linear DELLA",
  reference: "https://arxiv.org/abs/2406.11617",
  sparsification: "della_magprune",
  defaultNormalize: false,
  defaultRescale: true,
});
