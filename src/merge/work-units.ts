/**
 * The executor's units of work. Most output tensors are one unit each; a large tensor that the
 * kernels merge elementwise (linear, task arithmetic, DARE: every output element depends only on
 * the same element of the inputs) is cut into pieces, each read, merged and written on its own.
 * Then a model's largest tensors (embeddings, LM head) stream through the pipeline like the rest:
 * their reads and writes overlap the merge, and memory is set by the piece size, not theirs.
 */
import { PIECE_ALIGNMENT, PIECE_ELEMENTS } from "./kernels/request.js";
import { elementCount as shapeElementCount } from "./kernels/layout.js";
import type { TensorRecipe } from "./plan/types.js";

export interface WorkUnit {
  /** Index of the recipe in the plan. */
  index: number;
  recipe: TensorRecipe;
  /** Set for a piece: elements [offset, offset + count) of the tensor. */
  piece?: { offset: number; count: number };
  /** Whether this unit completes its tensor. */
  last: boolean;
}

export function elementCount(recipe: TensorRecipe): number {
  return shapeElementCount(recipe.shape);
}

/**
 * Units in plan order. `splittable(recipe)` says whether the kernels will take a recipe in pieces;
 * only tensors of more than one piece are asked.
 */
export function workUnits(
  recipes: readonly TensorRecipe[],
  splittable: (recipe: TensorRecipe) => boolean,
  pieceElements = PIECE_ELEMENTS,
): WorkUnit[] {
  const size = Math.max(PIECE_ALIGNMENT, Math.floor(pieceElements / PIECE_ALIGNMENT) * PIECE_ALIGNMENT);
  const units: WorkUnit[] = [];
  recipes.forEach((recipe, index) => {
    const total = elementCount(recipe);
    if (recipe.action !== "merge" || total <= size || !splittable(recipe)) {
      units.push({ index, recipe, last: true });
      return;
    }
    for (let offset = 0; offset < total; offset += size) {
      const count = Math.min(size, total - offset);
      units.push({ index, recipe, piece: { offset, count }, last: offset + count === total });
    }
  });
  return units;
}
