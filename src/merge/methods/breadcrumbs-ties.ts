/** Model Breadcrumbs sparsification with TIES sign consensus. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const breadcrumbsTiesMethod: MergeMethod = defineTaskFamilyMethod({
  name: "breadcrumbs_ties",
  prettyName: "Model Breadcrumbs with TIES",
  reference: "https://arxiv.org/abs/2312.06795",
  sparsification: "magnitude_outliers",
  consensus: "sum",
  defaultNormalize: false,
  defaultRescale: false,
});
