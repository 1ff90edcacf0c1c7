/** DELLA-Merging (Deep et al.): magnitude-ranked drop probabilities (MAGPRUNE), sign election, fusion. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dellaMethod: MergeMethod = defineTaskFamilyMethod({
  name: "della",
  prettyName: "DELLA",
  reference: "https://arxiv.org/abs/2406.11617",
  summary:
    "drops task-vector entries at random with a probability that falls with their magnitude rank (DELLA), rescales the survivors, and keeps sign-agreeing entries (TIES).",
  sparsification: "della_magprune",
  consensus: "sum",
  defaultNormalize: true,
  defaultRescale: true,
});
