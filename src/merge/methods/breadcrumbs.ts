/** Model Breadcrumbs (Davari & Belilovsky): drop the largest outliers and the smallest deltas. */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const breadcrumbsMethod: MergeMethod = defineTaskFamilyMethod({
  name: "breadcrumbs",
  prettyName: "Model Breadcrumbs",
  reference: "https://arxiv.org/abs/2312.06795",
  summary:
    "removes both the largest outliers and the smallest entries of each task vector (Model Breadcrumbs), then adds the weighted task vectors to the base.",
  sparsification: "magnitude_outliers",
  defaultNormalize: false,
  defaultRescale: false,
});
