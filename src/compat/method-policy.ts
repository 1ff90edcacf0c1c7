/**
 * What a merge method does with tensors that do not line up, which decides how bad a layout
 * difference is: the task-arithmetic family crops embeddings to the base and skips other
 * mismatched tensors (with a warning); every other method needs identical shapes and fails.
 */
import type { MergeMethod } from "../merge/types.js";

const TASK_FAMILY = new Set([
  "task_arithmetic",
  "ties",
  "dare_ties",
  "dare_linear",
  "breadcrumbs",
  "breadcrumbs_ties",
  "della",
  "della_linear",
]);

export type ShapePolicy = "task-family" | "strict";

export function shapePolicy(method: Pick<MergeMethod, "name" | "shapePolicy">): ShapePolicy {
  return method.shapePolicy ?? (TASK_FAMILY.has(method.name) ? "task-family" : "strict");
}

/** Methods that drop delta elements at random (DARE, DELLA): the ones large deltas hurt most. */
export function dropsAtRandom(method: Pick<MergeMethod, "name" | "dropsAtRandom">): boolean {
  return method.dropsAtRandom ?? (method.name.startsWith("dare_") || method.name.startsWith("della"));
}
