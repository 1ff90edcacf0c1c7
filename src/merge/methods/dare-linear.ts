/** DARE (Yu et al.) with a plain weighted sum: drop delta elements at random, rescale the survivors. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const dareLinearMethod: MergeMethod = defineTaskFamilyMethod({
  name: "dare_linear",
  prettyName: "Linear DARE",
  reference: "https://arxiv.org/abs/2311.03099",
  summary:
    "drops each task-vector entry at random with probability 1 − density and rescales the survivors by 1/density (DARE), then adds the weighted task vectors to the base.",
  sparsification: "random",
  defaultNormalize: false,
  defaultRescale: true,
});
