/**
 * Sparsification of one task vector, in place (mergekit's sparsify with hubmerge's exact
 * randomness). Composes the reference primitives; the order of operations is theirs.
 */
import type { DareRescale } from "../../types.js";
import { dareStream, keepThreshold } from "../../rng/dare-stream.js";
import {
  applyMask,
  dareSparsify,
  dellaSparsify,
  l1NormF64,
  l1Rescale,
  magnitudeOutliersMask,
  magnitudeTopKMask,
} from "./primitives.js";

export type Sparsification = "magnitude" | "random" | "magnitude_outliers" | "della_magprune";

export interface SparsifyOptions {
  method: Sparsification;
  density: number;
  /** magnitude_outliers: fraction of the largest magnitudes dropped. */
  gamma?: number;
  /** della_magprune: half-width of the keep-probability range. */
  epsilon?: number;
  /** della_magprune: length of a row (the last dimension; 1 for scalars). */
  rowLength?: number;
  /**
   * Whether survivors are rescaled. Random methods (random, della_magprune) then use `dareRescale`
   * ("paper": 1/p per element; "l1": norm matching); deterministic ones always match L1 norms.
   */
  rescale: boolean;
  dareRescale: DareRescale;
  /** Identity of the random stream: manifest seed, model reference, output tensor name. */
  seed: bigint;
  model: string;
  tensorName: string;
}

/**
 * Sparsifies `delta` in place. density ≥ 1 leaves it unchanged (no rescaling either).
 * - magnitude: keeps the ⌊d·n⌋ largest |δ| (magnitudeTopKMask);
 * - magnitude_outliers: drops ⌊γ·n⌋ largest and the smallest so that ⌊d·n⌋ remain;
 * - random: DARE Bernoulli mask from the (seed, model, tensor) stream;
 * - della_magprune: d = 0 zeroes the tensor; else per-row rank-based keep probabilities.
 */
export function sparsify(delta: Float32Array, options: SparsifyOptions): void {
  const { method, density } = options;
  if (density >= 1 || delta.length === 0) return;
  const l1Mode = options.rescale && (options.dareRescale === "l1" || !isRandom(method));
  const before = l1Mode ? l1NormF64(delta) : 0;
  switch (method) {
    case "magnitude":
      applyMask(delta, magnitudeTopKMask(delta, Math.floor(density * delta.length)));
      break;
    case "magnitude_outliers":
      applyMask(delta, magnitudeOutliersMask(delta, density, options.gamma ?? 0));
      break;
    case "random": {
      const source = dareStream(options.seed, options.model, options.tensorName);
      const paper = options.rescale && !l1Mode;
      dareSparsify(delta, 0, source, keepThreshold(density), paper ? density : undefined);
      break;
    }
    case "della_magprune": {
      if (density <= 0) {
        delta.fill(0);
        return;
      }
      const source = dareStream(options.seed, options.model, options.tensorName);
      const paper = options.rescale && !l1Mode;
      dellaSparsify(delta, options.rowLength ?? delta.length, source, density, options.epsilon ?? 0, paper);
      break;
    }
  }
  if (l1Mode) l1Rescale(delta, before);
}

function isRandom(method: Sparsification): boolean {
  return method === "random" || method === "della_magprune";
}
