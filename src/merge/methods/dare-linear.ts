/** DARE (Yu et al.) with a plain weighted sum: drop delta elements at random, rescale the survivors. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dareLinearMethod: MergeMethod = defineTaskFamilyMethod({
  name: "dare_linear",
  prettyName: "Linear DARE",
  reference: "https://arxiv.org/abs/2311.03099",
  sparsification: "random",
  defaultNormalize: false,
  defaultRescale: true,
});
