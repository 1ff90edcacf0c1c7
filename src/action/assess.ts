import { createHash } from "node:crypto";
import type { CompatReport } from "../compat/report.js";
import { HubmergeError } from "../errors.js";
import type { HubSession } from "../hub/session.js";
import { decideMerge, type MergeDecision } from "../lock/changes.js";
import type { Lockfile } from "../lock/lockfile.js";
import { loadManifest } from "../manifest/parse.js";
import type { Manifest } from "../manifest/types.js";
import { validateManifest } from "../manifest/validate.js";
import { methodRegistry } from "../merge/methods/registry.js";
import { closeModels, planRun, referencedModels } from "../pipeline.js";
import { HubSource } from "../source/hub-source.js";
import { TOOL } from "../version.js";

/** One manifest as the run sees it: valid or not, up to date or not, and why. */
export interface Assessment {
  file: string;
  manifest?: Manifest;
  error?: HubmergeError;
  /** Source reference → the commit it resolves to now (null for local folders). */
  sources: Record<string, string | null>;
  manifestSha256?: string;
  decision?: MergeDecision;
  /** The sources the lockfile pinned for this manifest; undefined when it was never locked. */
  lockedSources?: Record<string, string | null>;
  compat?: CompatReport;
  /** Bytes a merge reads and writes, from the plan (when one was made). */
  inputBytes?: number;
  outputBytes?: number;
}

export interface AssessOptions {
  session: HubSession;
  lock: Lockfile;
  force: boolean;
  /** Also check compatibility and plan the manifests that need a merge (plan mode). */
  deep: boolean;
}

/** Validates a manifest and compares its sources' current commits with the lockfile. */
export async function assessManifest(file: string, options: AssessOptions): Promise<Assessment> {
  const assessment: Assessment = { file, sources: {} };
  try {
    // The run's working directory is the workspace, so paths in errors and cards stay relative.
    const manifest = await loadManifest(file);
    validateManifest(manifest, methodRegistry);
    assessment.manifest = manifest;
    assessment.manifestSha256 = createHash("sha256").update(manifest.text).digest("hex");
    // Only the commit shas: a run where nothing changed makes no other Hub request.
    for (const ref of referencedModels(manifest)) {
      assessment.sources[ref.raw] =
        ref.kind === "hub" ? await HubSource.resolveRevision(ref, { hub: options.session.hub }) : null;
    }
    assessment.lockedSources = options.lock.manifests[file]?.sources;
    assessment.decision = decideMerge(
      options.lock.manifests[file],
      { manifestSha256: assessment.manifestSha256, sources: assessment.sources, toolVersion: TOOL.version },
      options.force,
    );
    if (options.deep && assessment.decision.needed) await checkAndPlan(assessment, file, options);
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    assessment.error = error;
  }
  return assessment;
}

async function checkAndPlan(assessment: Assessment, path: string, options: AssessOptions): Promise<void> {
  const planned = await planRun({
    manifestPath: path,
    resolver: options.session.resolver,
    lineageOf: options.session.lineageOf,
    check: true,
    // The report is the point here: blocking findings are shown, not thrown.
    allowIncompatible: true,
  });
  await closeModels(planned.models);
  assessment.compat = planned.compat;
  assessment.inputBytes = planned.plan.inputBytes;
  assessment.outputBytes = planned.plan.shards.totalSize;
}
