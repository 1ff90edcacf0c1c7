/** DARE (Yu et al.) with TIES sign consensus. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dareTiesMethod: MergeMethod = defineTaskFamilyMethod({
  name: "dare_ties",
  prettyName: "DARE TIES",
  reference: "https://arxiv.org/abs/2311.03099",
  sparsification: "random",
  consensus: "sum",
  defaultNormalize: false,
  defaultRescale: true,
});
