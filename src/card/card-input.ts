import type { Manifest } from "../manifest/types.js";
import type { ModulePlan } from "../merge/plan/types.js";
import type { MergeMethod } from "../merge/types.js";
import type { RunRecord } from "../run-record.js";

/** A source model as the card lists it. */
export interface CardSource {
  /** Reference as written in the manifest. */
  ref: string;
  /** Hub repo id, when the source is on the Hub. */
  repo?: string;
  /** Pinned commit sha, when known. */
  revision?: string;
  /** `adapter`: a LoRA adapter applied to the source listed before it (`model+adapter`). */
  role: "base" | "merged" | "adapter";
  /** The source card's `license`, when it has one. */
  license?: string;
  /** The source card's `pipeline_tag`. */
  pipelineTag?: string;
}

export interface CardInput {
  manifest: Manifest;
  method: MergeMethod;
  record: RunRecord;
  sources: CardSource[];
  /** The repo the card is published in (`org/name`). */
  repo?: string;
  /** Where links point: the public Hub unless a local one serves the models. */
  hubUrl?: string;
  /** Markdown of the compatibility report, when a check ran. */
  compatibilityMarkdown?: string;
  /** Where the build's provenance attestation can be found (the Action's repo), when known. */
  provenanceUrl?: string;
  /** The modules of a `modules:` merge, as planned (their layer counts). */
  modules?: ModulePlan[];
}
