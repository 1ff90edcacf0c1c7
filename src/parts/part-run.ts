/**
 * One part of a split merge: the part's whole shards of the plan, merged and written exactly as a
 * one-process merge writes them (same plan, same kernels' bytes, same shard metadata), then its
 * receipt. With uploads, each shard goes to the Hub as it completes; nothing is committed.
 */
import { shardMetadata, type FinishInput } from "../finish-output.js";
import { executePlan } from "../merge/execute.js";
import type { MergeEventListener } from "../merge/events.js";
import type { BackendName } from "../merge/kernels/index.js";
import type { ShardUploads } from "../hub/publish/upload-shards.js";
import { TOOL } from "../version.js";
import type { SourcePin } from "./pins.js";
import { RECEIPT_FORMAT, writeReceipt, type PartReceipt } from "./receipt.js";
import { splitShards, type PartSpec } from "./split.js";

export interface PartRunInput {
  planned: FinishInput;
  /** Folder the part's shards and receipt are written into. */
  dir: string;
  part: PartSpec;
  seed: bigint;
  maxShardBytes: number | undefined;
  backend?: BackendName;
  threads?: number;
  pieceElements?: number;
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
  /** Upload each shard as it completes (`--push`). */
  uploads?: ShardUploads;
}

/** Which shard indices part `part` writes. */
export function shardsOfPart(planned: FinishInput, part: PartSpec): number[] {
  const sets = splitShards(
    planned.plan.shards.files.map((f) => f.size),
    part.count,
  );
  return sets[part.index - 1]!;
}

export async function mergePart(input: PartRunInput): Promise<PartReceipt> {
  const { planned, part, uploads } = input;
  const { plan, manifest, models } = planned;
  const only = new Set(shardsOfPart(planned, part));
  const { shards, warnings } = await executePlan({
    plan,
    models,
    dir: input.dir,
    seed: input.seed,
    dareRescale: manifest.hubmerge.dareRescale,
    metadata: shardMetadata(plan),
    onEvent: input.onEvent,
    signal: input.signal,
    backend: input.backend,
    threads: input.threads,
    pieceElements: input.pieceElements,
    shards: only,
    onShardClosed:
      uploads &&
      ((shard, path) => uploads.add({ path: shard.file, size: shard.size, sha256: shard.sha256 }, path)),
  });
  if (uploads) await uploads.settle();
  const sources: SourcePin[] = [...models.values()].map((m) => ({
    ref: m.ref,
    revision: m.source.revision ?? null,
  }));
  const receipt: PartReceipt = {
    format: RECEIPT_FORMAT,
    tool: TOOL,
    manifest: { file: manifest.file, sha256: planned.manifestSha256 },
    seed: input.seed.toString(),
    sources,
    maxShardBytes: input.maxShardBytes ?? null,
    part,
    shardCount: plan.shards.files.length,
    shards,
    warnings,
    uploaded: uploads !== undefined,
  };
  await writeReceipt(input.dir, receipt);
  return receipt;
}
