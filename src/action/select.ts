import { HubmergeError } from "../errors.js";
import { loadManifest } from "../manifest/parse.js";
import { referencedModels } from "../manifest/referenced-models.js";
import type { RunIntent } from "./event.js";

/**
 * Narrows the manifests by the `only` input (a manifest path or a source model) and by a dispatched
 * model. Reads manifests from disk only; a dispatch naming a model no manifest uses is refused.
 */
export async function selectManifests(
  files: string[],
  only: string | undefined,
  intent: RunIntent,
): Promise<string[]> {
  let selected = files;
  if (only !== undefined) {
    selected = files.includes(only) ? [only] : await filesUsing(files, only);
    if (selected.length === 0) {
      throw new HubmergeError(
        "E_USAGE",
        `only: ${only} is neither a manifest nor a model any manifest uses`,
        {
          hint: `use one of ${files.join(", ") || "(no manifests found)"} or a source model id`,
        },
      );
    }
  }
  const changed = intent.changedModel?.model;
  if (changed !== undefined) {
    selected = await filesUsing(selected, changed);
    if (selected.length === 0) {
      throw new HubmergeError("E_USAGE", `the dispatch names ${changed}, which no manifest uses`, {
        hint: "repository_dispatch payloads only narrow the run to manifests that already use the model",
      });
    }
  }
  return selected;
}

async function filesUsing(files: string[], model: string): Promise<string[]> {
  const wanted = model.toLowerCase();
  const matches = await Promise.all(
    files.map(async (file) => {
      try {
        const manifest = await loadManifest(file);
        return referencedModels(manifest).some(
          (ref) => ref.kind === "hub" && ref.repo?.toLowerCase() === wanted,
        );
      } catch {
        return false; // an unreadable manifest uses nothing; it is reported when run unnarrowed
      }
    }),
  );
  return files.filter((_, i) => matches[i]);
}
