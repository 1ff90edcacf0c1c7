import { HubmergeError } from "../errors.js";
import { parseModelRef, sameModelRef, type ModelRef } from "../model-ref.js";
import type { Manifest } from "./types.js";

/** Every model the manifest reads, once each, in manifest order. */
export function referencedModels(manifest: Manifest): ModelRef[] {
  const refs: ModelRef[] = [];
  const add = (ref: ModelRef | undefined) => {
    if (ref && !refs.some((r) => sameModelRef(r, ref))) refs.push(ref);
  };
  add(manifest.baseModel);
  manifest.models?.forEach((m) => add(m.ref));
  manifest.slices?.forEach((s) => s.sources.forEach((src) => add(src.ref)));
  const tokenizer = manifest.tokenizerSource;
  if (tokenizer !== undefined && tokenizer !== "base") {
    if (tokenizer === "union") {
      throw new HubmergeError("E_MANIFEST", "tokenizer_source: union is not supported yet", {
        where: { file: manifest.file, ...manifest.locate(["tokenizer_source"]) },
        hint: "use `base` or name the model whose tokenizer the merge should keep",
      });
    }
    add(parseModelRef(tokenizer, manifest.dir));
  }
  return refs;
}
