/** TIES-Merging (Yadav et al.): trim to the largest magnitudes, elect signs, merge the agreeing values. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const tiesMethod: MergeMethod = defineTaskFamilyMethod({
  name: "ties",
  prettyName: "TIES",
  reference: "https://arxiv.org/abs/2306.01708",
  summary:
    "trims each task vector to its largest-magnitude entries, elects a sign per weight by weighted majority, and adds only the entries that agree with it (TIES-Merging).",
  sparsification: "magnitude",
  consensus: "sum",
  defaultNormalize: true,
  defaultRescale: false,
});
