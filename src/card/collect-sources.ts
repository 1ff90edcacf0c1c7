import type { LoadedModel } from "../merge/loaded-model.js";
import type { CardSource } from "./card-input.js";
import { parseCardData } from "../source/card-data.js";

/** Cards larger than this are not read for metadata (their front matter comes first anyway). */
const MAX_README_BYTES = 1024 * 1024;

/** The card's view of each source: Hub id, pinned revision, role, and its own card's metadata. */
export async function collectCardSources(
  models: LoadedModel[],
  /** Refs of the models the merge uses as a base: the top-level one and any slice's own. */
  baseRefs: ReadonlySet<string>,
): Promise<CardSource[]> {
  const listed = await Promise.all(
    models.map(async (model): Promise<CardSource> => {
      const data = await readCardData(model);
      const license = typeof data?.["license"] === "string" ? data["license"] : undefined;
      const pipelineTag = typeof data?.["pipeline_tag"] === "string" ? data["pipeline_tag"] : undefined;
      return {
        ref: model.ref,
        repo: model.source.repo,
        revision: model.source.revision,
        role: baseRefs.has(model.ref) ? "base" : "merged",
        license,
        pipelineTag,
      };
    }),
  );
  // Each adapter is listed after the model it was applied to, with its own pinned revision.
  return listed.flatMap((source, i) => {
    const adapter = models[i]!.adapter;
    if (!adapter) return [source];
    const row: CardSource = {
      ref: adapter.ref,
      role: "adapter",
      ...(adapter.repo && { repo: adapter.repo }),
      ...(adapter.revision && { revision: adapter.revision }),
    };
    return [source, row];
  });
}

async function readCardData(model: LoadedModel): Promise<Record<string, unknown> | undefined> {
  const bytes = await model.source.readFile("README.md");
  if (!bytes || bytes.byteLength > MAX_README_BYTES) return undefined;
  return parseCardData(new TextDecoder().decode(bytes));
}
