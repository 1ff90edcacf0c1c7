/** DARE (Yu et al.) with TIES sign consensus. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dareTiesMethod: MergeMethod = defineTaskFamilyMethod({
  name: "dare_ties",
  prettyName: "DARE TIES",
  reference: "https://arxiv.org/abs/2311.03099",
  summary:
    "drops each task-vector entry at random with probability 1 − density and rescales the survivors by 1/density (DARE), then keeps only the entries whose sign agrees with the weighted majority (TIES) before adding them to the base.",
  sparsification: "random",
  consensus: "sum",
  defaultNormalize: false,
  defaultRescale: true,
});
