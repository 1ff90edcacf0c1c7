/** Model Breadcrumbs sparsification with TIES sign consensus. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const breadcrumbsTiesMethod: MergeMethod = defineTaskFamilyMethod({
  name: "breadcrumbs_ties",
  prettyName: "Model Breadcrumbs with TIES",
  reference: "https://arxiv.org/abs/2312.06795",
  summary:
    "removes the largest outliers and the smallest entries of each task vector (Model Breadcrumbs) and keeps only sign-agreeing entries (TIES).",
  sparsification: "magnitude_outliers",
  consensus: "sum",
  defaultNormalize: false,
  defaultRescale: false,
});
