import { sameModelRef, type ModelRef } from "../model-ref.js";
import type { Manifest } from "./types.js";

/** Every model the manifest reads, once each, in manifest order. */
export function referencedModels(manifest: Manifest): ModelRef[] {
  const refs: ModelRef[] = [];
  const add = (ref: ModelRef | undefined) => {
    if (ref && !refs.some((r) => sameModelRef(r, ref))) refs.push(ref);
  };
  add(manifest.baseModel);
  manifest.models?.forEach((m) => add(m.ref));
  // A slice's own base_model is read too (mergekit's referenced_models leaves it out, but it
  // is always among the slice's sources when a method uses it).
  const addSlices = (slices: Manifest["slices"]) =>
    slices?.forEach((s) => {
      s.sources.forEach((src) => add(src.ref));
      add(s.baseModel);
    });
  addSlices(manifest.slices);
  for (const module of manifest.modules ?? []) {
    module.models?.forEach((m) => add(m.ref));
    addSlices(module.slices);
  }
  // A tokenizer-only source is read for its vocabulary (and its embedding rows, as mergekit does).
  const tokenizer = manifest.tokenizer?.source;
  if (typeof tokenizer === "object") add(tokenizer);
  return refs;
}

/** Every slice's own `base_model` (top-level slices and module slices), once each, in manifest order. */
export function sliceBaseModels(manifest: Manifest): ModelRef[] {
  const slices = [...(manifest.slices ?? []), ...(manifest.modules ?? []).flatMap((m) => m.slices ?? [])];
  const refs: ModelRef[] = [];
  for (const { baseModel } of slices) {
    if (baseModel && !refs.some((r) => sameModelRef(r, baseModel))) refs.push(baseModel);
  }
  return refs;
}
