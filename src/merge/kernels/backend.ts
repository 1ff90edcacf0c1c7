/**
 * The one shape every kernel backend has (reference/, wasm/, webgpu/, and index.ts's chooser that
 * composes them). A backend either merges a tensor to the exact bytes of the TypeScript reference
 * or declines it (undefined), and then the executor runs the method's own reference code.
 */
import type { PieceQuery, TensorMergeArgs } from "./request.js";

export interface KernelBackend {
  /** For the run summary, e.g. `wasm (2 threads)` or `webgpu (NVIDIA H100) + wasm (16 threads)`. */
  readonly label: string;
  /**
   * Encoded output bytes, or undefined: then the caller runs the TypeScript reference. With
   * consumeInputs the result may be a view of one of the inputs' buffers; otherwise it may live in
   * a buffer the backend reuses: valid until the third tryMerge after this one starts, which covers
   * writing unit i while units i+1 and i+2 merge. Copy it to keep it longer.
   */
  tryMerge(args: TensorMergeArgs): Promise<Uint8Array | undefined>;
  /**
   * Whether tryMerge will take every piece (`elements`) of this tensor, so that the caller may
   * stream it: elementwise plans (see request.ts), decided before anything is read.
   */
  canMergePieces(query: PieceQuery): boolean;
  /** Elements per piece that suit this backend: a GPU wants larger dispatches than the CPU. */
  readonly pieceElements: number;
  /** Releases workers and devices; the backend must not be used afterwards. */
  close(): Promise<void>;
}
