/**
 * The reference backend declines every tensor: the executor then runs the method's own merge,
 * written with this folder's f32 primitives (primitives.ts), which is the specification the fast
 * backends reproduce bit for bit. `--backend reference`, and `auto` where wasm cannot load.
 */
import type { KernelBackend } from "../backend.js";
import { PIECE_ELEMENTS } from "../request.js";

export function openReferenceBackend(): KernelBackend {
  return {
    label: "reference",
    tryMerge: async () => undefined,
    canMergePieces: () => false,
    pieceElements: PIECE_ELEMENTS,
    close: async () => undefined,
  };
}
