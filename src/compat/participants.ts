/**
 * Which models the check compares, and with what: every model the merge reads (not a
 * tokenizer-only source) against one reference — the base model, else the first model listed,
 * as the planner chooses its reference.
 */
import { HubmergeError } from "../errors.js";
import { modelKey, sameModelRef, type ModelRef } from "../model-ref.js";
import type { Manifest, Pos } from "../manifest/types.js";
import type { LoadedModel } from "../merge/loaded-model.js";

export interface SliceUse {
  /** `[start, end)` as in mergekit. */
  range: [number, number];
  pos: Pos;
  /** The module whose layers the range counts (`modules:`); the planner checks those ranges. */
  module?: string;
}

export interface CheckedModel {
  /** The reference as the manifest writes it. */
  name: string;
  ref: ModelRef;
  loaded: LoadedModel;
  /** Where the manifest names it (its `models` entry, `base_model`, or first slice source). */
  pos?: Pos;
  /** The layer ranges slices take from it (empty without slices). */
  slices: SliceUse[];
}

export interface CheckParticipants {
  reference: CheckedModel;
  /** The other merged models, in manifest order, each once. */
  others: CheckedModel[];
}

export function participantsOf(
  manifest: Manifest,
  models: ReadonlyMap<string, LoadedModel>,
): CheckParticipants {
  const list: CheckedModel[] = [];
  const add = (ref: ModelRef, pos: Pos | undefined): CheckedModel => {
    const known = list.find((m) => sameModelRef(m.ref, ref));
    if (known) return known;
    const loaded = models.get(modelKey(ref));
    if (!loaded) throw new HubmergeError("E_INTERNAL", `model ${ref.raw} was not loaded for the check`);
    const entry: CheckedModel = { name: loaded.ref, ref, loaded, pos, slices: [] };
    list.push(entry);
    return entry;
  };
  if (manifest.baseModel) add(manifest.baseModel, manifest.locate(["base_model"]));
  manifest.models?.forEach((entry) => add(entry.ref, entry.pos));
  manifest.slices?.forEach((slice, s) => {
    slice.sources.forEach((source) => {
      add(source.ref, source.pos).slices.push({ range: source.layerRange, pos: source.pos });
    });
    if (slice.baseModel) add(slice.baseModel, manifest.locate(["slices", s, "base_model"]));
  });
  for (const module of manifest.modules ?? []) {
    module.models?.forEach((entry) => add(entry.ref, entry.pos));
    module.slices?.forEach((slice, s) => {
      slice.sources.forEach((source) => {
        const use = { range: source.layerRange, pos: source.pos, module: module.name };
        add(source.ref, source.pos).slices.push(use);
      });
      const at = ["modules", module.name, "slices", s, "base_model"];
      if (slice.baseModel) add(slice.baseModel, manifest.locate(at));
    });
  }
  const [reference, ...others] = list;
  if (!reference) throw new HubmergeError("E_MANIFEST", "the manifest names no model to check");
  return { reference, others };
}
