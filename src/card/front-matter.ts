import type { CardInput } from "./card-input.js";

export interface FrontMatter {
  base_model?: string[];
  base_model_relation?: "merge";
  library_name: "transformers";
  tags: string[];
  license?: string;
  pipeline_tag?: string;
}

/**
 * The YAML the Hub reads: `base_model` lists every Hub source (base included) so the merge shows
 * under "Merges" in each one's model tree. Local folders are no Hub ids, so they are not listed.
 */
export function buildFrontMatter(input: CardInput, warn: (message: string) => void): FrontMatter {
  const ids = unique(input.sources.flatMap((s) => (s.repo ? [s.repo] : [])));
  const tags = unique([
    "merge",
    "hubmerge",
    "mergekit",
    input.method.name,
    ...input.manifest.hubmerge.card.tags,
  ]);
  const front: FrontMatter = {
    ...(ids.length > 0 ? { base_model: ids, base_model_relation: "merge" as const } : {}),
    library_name: "transformers",
    tags,
  };
  const license = chooseLicense(input, warn);
  if (license) front.license = license;
  const base = input.sources.find((s) => s.role === "base") ?? input.sources[0];
  if (base?.pipelineTag) front.pipeline_tag = base.pipelineTag;
  return front;
}

/** The manifest's license, else the sources' when they all agree, else none (with a warning). */
function chooseLicense(input: CardInput, warn: (message: string) => void): string | undefined {
  const declared = input.manifest.hubmerge.output?.license;
  if (declared) return declared;
  const licenses = unique(input.sources.map((s) => s.license ?? "unknown"));
  if (licenses.length === 1 && licenses[0] !== "unknown") return licenses[0];
  warn(
    `no license on the card: the sources' licenses are ${licenses.join(", ")}; ` +
      "set hubmerge.output.license in the manifest to one that all of them allow",
  );
  return undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
