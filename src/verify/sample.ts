/**
 * Which tensors a sample-mode verify merges: about `fraction` of the model's bytes, always the
 * input embeddings and at least one tensor of every layer, the rest by a seeded draw. The draw is
 * a pure function of the seed and the tensor names (docs/verify.md spells it out), so anyone who
 * is told the seed draws the same sample.
 */
import { createHash, randomInt } from "node:crypto";
import { layerIndexOf } from "../merge/layer-names.js";

/** The default share of the model's bytes that sample mode merges again. */
export const DEFAULT_SAMPLE_FRACTION = 0.02;

/** Input embedding tensors across the usual architectures (llama, gpt2, bert, gpt-neox). */
const EMBEDDING = /(^|\.)(embed_tokens|wte|word_embeddings|embed_in)\.weight$/;

export interface SampleCandidate {
  name: string;
  bytes: number;
}

/** A fresh seed for a draw nobody asked to repeat (it is printed, so it can be). */
export function newSeedDraw(): number {
  return randomInt(0, 2 ** 31);
}

/** A tensor's place in the draw: sha256 of `hubmerge-sample:<seed>:<name>`, as hex (lower sorts first). */
export function drawKey(seed: number, name: string): string {
  return createHash("sha256").update(`hubmerge-sample:${seed}:${name}`).digest("hex");
}

/** The sampled tensor names. `fraction` ≥ 1 takes everything. */
export function drawSample(tensors: readonly SampleCandidate[], fraction: number, seed: number): Set<string> {
  if (fraction >= 1) return new Set(tensors.map((t) => t.name));
  const keyed = tensors
    .map((t) => ({ ...t, key: drawKey(seed, t.name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const total = tensors.reduce((sum, t) => sum + t.bytes, 0);
  const budget = fraction * total;
  const chosen = new Set<string>();
  let used = 0;
  const take = (t: SampleCandidate) => {
    chosen.add(t.name);
    used += t.bytes;
  };
  keyed.filter((t) => EMBEDDING.test(t.name)).forEach(take);
  const layers = groupByLayer(keyed);
  // Each layer may spend an equal share of the budget; a layer whose tensors all exceed it
  // gives its smallest, so that every layer is looked at.
  const share = budget / (layers.size + 1);
  for (const members of layers.values()) {
    const fits = members.find((t) => t.bytes <= share);
    take(fits ?? members.reduce((a, b) => (b.bytes < a.bytes ? b : a)));
  }
  for (const t of keyed) {
    if (!chosen.has(t.name) && used + t.bytes <= budget) take(t);
  }
  return chosen;
}

/** Tensors by layer number, each list in draw order. */
function groupByLayer<T extends SampleCandidate>(keyed: readonly T[]): Map<number, T[]> {
  const layers = new Map<number, T[]>();
  for (const t of keyed) {
    const layer = layerIndexOf(t.name);
    if (layer === undefined) continue;
    const members = layers.get(layer) ?? [];
    members.push(t);
    layers.set(layer, members);
  }
  return layers;
}
