/** DELLA's MAGPRUNE with a plain weighted sum. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dellaLinearMethod: MergeMethod = defineTaskFamilyMethod({
  name: "della_linear",
  prettyName: "Linear DELLA",
  reference: "https://arxiv.org/abs/2406.11617",
  summary:
    "drops task-vector entries at random with a probability that falls with their magnitude rank (DELLA), rescales the survivors, and adds the weighted task vectors to the base.",
  sparsification: "della_magprune",
  defaultNormalize: false,
  defaultRescale: true,
});
