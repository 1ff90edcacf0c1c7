import { HubmergeError } from "../errors.js";
import { decideMerge, type MergeDecision } from "../lock/changes.js";
import type { Lockfile } from "../lock/lockfile.js";
import {
  closeModels,
  planGraph,
  planRun,
  readMergeGraph,
  type CompatReport,
  type Manifest,
  type ReadGraph,
  type ReadManifest,
} from "../pipeline/index.js";
import { resolveRevision, type HubSession } from "../session.js";
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
  /** Output shards in the plan of a one-merge manifest: the most parts it can be split into. */
  shardCount?: number;
}

export interface AssessOptions {
  session: HubSession;
  lock: Lockfile;
  force: boolean;
  /** Also check compatibility and plan the manifests that need a merge (plan mode). */
  deep: boolean;
  /** The output shard size the plan assumes (the shard-size input; default 5 GB). */
  maxShardBytes?: number;
}

/** Validates a manifest and compares its sources' current commits with the lockfile. */
export async function assessManifest(file: string, options: AssessOptions): Promise<Assessment> {
  const assessment: Assessment = { file, sources: {} };
  try {
    // The run's working directory is the workspace, so paths in errors and cards stay relative.
    // A mergekit-multi file is one unit: one hash, the models it reads from outside, its final merge.
    const graph = await readMergeGraph(file, { workspace: options.session.workspace }); // no symlink out of the workspace
    const read = graph.steps.find((step) => step.final)!.read;
    assessment.manifest = read.manifest;
    assessment.manifestSha256 = graph.sha256;
    // Only the commit shas: a run where nothing changed makes no other Hub request.
    for (const ref of graph.refs) {
      assessment.sources[ref.raw] =
        ref.kind === "hub" ? await resolveRevision(ref, { hub: options.session.hub }) : null;
    }
    assessment.lockedSources = options.lock.manifests[file]?.sources;
    assessment.decision = decideMerge(
      options.lock.manifests[file],
      { manifestSha256: assessment.manifestSha256, sources: assessment.sources, toolVersion: TOOL.version },
      options.force,
    );
    if (options.deep && assessment.decision.needed) {
      if (graph.steps.length === 1) await checkAndPlan(assessment, read, options);
      else await planMerges(assessment, graph, options);
    }
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    assessment.error = error;
  }
  return assessment;
}

async function checkAndPlan(
  assessment: Assessment,
  read: ReadManifest,
  options: AssessOptions,
): Promise<void> {
  // The manifest read above, not read and validated a second time.
  const planned = await planRun({
    manifest: read,
    resolver: options.session.resolver,
    lineageOf: options.session.lineageOf,
    check: true,
    // The report is the point here: blocking findings are shown, not thrown.
    allowIncompatible: true,
    maxShardBytes: options.maxShardBytes,
  });
  await closeModels(planned.models);
  assessment.compat = planned.compat;
  assessment.inputBytes = planned.plan.inputBytes;
  assessment.outputBytes = planned.plan.shards.totalSize;
  assessment.shardCount = planned.plan.shards.files.length;
}

/** The merges of a multi-merge file that read only existing models; their bytes are summed. */
async function planMerges(assessment: Assessment, graph: ReadGraph, options: AssessOptions): Promise<void> {
  const steps = await planGraph(graph, { resolver: options.session.resolver });
  const plans = steps.flatMap(({ planned }) => (planned ? [planned.plan] : []));
  assessment.inputBytes = plans.reduce((sum, plan) => sum + plan.inputBytes, 0);
  assessment.outputBytes = plans.reduce((sum, plan) => sum + plan.shards.totalSize, 0);
}
