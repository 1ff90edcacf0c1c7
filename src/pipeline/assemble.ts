/**
 * The last stage of a split merge (`publish --parts`): the parts' receipts checked against the
 * manifest, the merge planned again at the parts' pins, and the whole output written locally or
 * published in one commit that names the shards the parts uploaded.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LineageLookup } from "../compat/lineage.js";
import { HubmergeError } from "../errors.js";
import type { PublishResult } from "../hub/publish/publish.js";
import { openPublishTarget } from "../hub/publish/publish-uploaded.js";
import type { MergeEventListener } from "../merge/events.js";
import { StagedOutputDir } from "../merge/output-dir.js";
import { assembleInto, matchShardPlan } from "../parts/assemble.js";
import { checkReceipts, type CheckedParts } from "../parts/check-receipts.js";
import { findReceipts } from "../parts/receipt.js";
import type { RunRecord } from "../run-record.js";
import { pinnedResolver } from "../source/pinned-resolver.js";
import { resolveLocalSource, type SourceResolver } from "../source/resolve.js";
import { TOOL } from "../version.js";
import { closeModels, planRun } from "./load.js";
import { publishTargetOptions } from "./publish.js";
import { readManifest, type ReadManifest } from "./read.js";
import type { PlannedRun, PublishRunOptions } from "./types.js";

export interface AssembleRunOptions {
  manifestPath: string;
  /** The folder holding the parts' receipts (and, for a local assembly, their shards). */
  partsDir: string;
  resolver?: SourceResolver;
  lineageOf?: LineageLookup;
  hubUrl?: string;
  onEvent?: MergeEventListener;
  /** A local assembly into this folder; */
  out?: string;
  force?: boolean;
  /** …or one commit to the manifest's output repo, naming the uploaded shards. */
  publish?: PublishRunOptions;
}

export interface AssembleRunResult {
  record: RunRecord;
  outDir?: string;
  published?: PublishResult;
}

/** Checks the parts' receipts, then writes the whole output locally or publishes it in one commit. */
export async function assembleParts(options: AssembleRunOptions): Promise<AssembleRunResult> {
  const read = await readManifest(options.manifestPath);
  const parts = checkReceipts(await findReceipts(options.partsDir), {
    manifest: { file: read.manifest.file, sha256: read.sha256 },
    tool: TOOL,
  });
  const resolver = pinnedResolver(options.resolver ?? resolveLocalSource, parts.first.sources);
  const maxShardBytes = parts.first.maxShardBytes ?? undefined;
  const planned = await planRun({
    ...options,
    check: true,
    allowIncompatible: true,
    manifest: read,
    resolver,
    maxShardBytes,
  });
  try {
    matchShardPlan(planned, parts);
    if (options.out !== undefined) return await assembleLocally(planned, parts, options.out, options);
    if (!options.publish) throw new HubmergeError("E_USAGE", "assembling parts needs --out DIR or the Hub");
    return await assembleOnHub(planned, parts, read, options, options.publish);
  } finally {
    await closeModels(planned.models);
  }
}

/** The shards copied from the parts into `out`, with everything else a merge writes. */
async function assembleLocally(
  planned: PlannedRun,
  parts: CheckedParts,
  out: string,
  options: AssembleRunOptions,
): Promise<AssembleRunResult> {
  const output = await StagedOutputDir.create(out, { force: options.force });
  try {
    const record = await assembleInto(planned, parts, output.stagingDir, { ...options, copyShards: true });
    await output.commit();
    return { record, outDir: output.finalDir };
  } catch (error) {
    await output.abort();
    throw error;
  }
}

/** One commit naming the shards the parts uploaded, with the other files made in a scratch folder. */
async function assembleOnHub(
  planned: PlannedRun,
  parts: CheckedParts,
  read: ReadManifest,
  options: AssembleRunOptions,
  publish: PublishRunOptions,
): Promise<AssembleRunResult> {
  const seed = BigInt(parts.first.seed);
  const target = await openPublishTarget(publishTargetOptions(read, seed, publish));
  const scratch = await mkdtemp(join(tmpdir(), "hubmerge-assemble-"));
  try {
    const record = await assembleInto(planned, parts, scratch, { ...options, copyShards: false });
    const shards = parts.shards.map((s) => ({ path: s.file, size: s.size, sha256: s.sha256 }));
    return { record, published: await target.commit(scratch, shards) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
