/** Task Arithmetic (Ilharco et al.): θ₀ + λ·Σ wᵢ(θᵢ − θ₀). */
import type { MergeMethod } from "../types.js";
import { defineTaskFamilyMethod } from "./task-family.js";

export const taskArithmeticMethod: MergeMethod = defineTaskFamilyMethod({
  name: "task_arithmetic",
  prettyName: "Task Arithmetic",
  reference: "https://arxiv.org/abs/2212.04089",
  summary:
    "adds each fine-tune's task vector (its difference from the base) to the base, scaled by its weight.",
  defaultNormalize: false,
  defaultRescale: false,
});
