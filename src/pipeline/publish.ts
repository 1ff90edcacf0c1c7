/**
 * merge → publish: a finished merge sent to the manifest's output repo in one Hub commit, or the
 * merge and its upload overlapped, each shard sent as soon as it is written.
 */
import { HubmergeError } from "../errors.js";
import { publishFolder, type PublishResult } from "../hub/publish/publish.js";
import { openPublishTarget } from "../hub/publish/publish-uploaded.js";
import type { UploadStats } from "../hub/publish/upload-shards.js";
import type { Manifest } from "../manifest/types.js";
import { runMerge } from "./merge.js";
import { readManifest, type ReadManifest } from "./read.js";
import type { MergeRunOptions, MergeRunResult, PublishRunOptions } from "./types.js";

/** Publishes a finished merge to the manifest's output repo in one Hub commit. */
export async function publishMerge(
  result: MergeRunResult,
  options: PublishRunOptions,
): Promise<PublishResult> {
  const output = outputOf(result.manifest);
  return publishFolder({
    hub: options.hub,
    repo: output.repo,
    dir: result.outDir,
    private: output.private,
    overwrite: output.overwrite,
    commitTitle: `hubmerge: ${result.plan.method.name} merge of ${result.record.sources.length} models`,
    commitDescription: `manifest ${result.manifest.file} (sha256 ${result.record.manifest.sha256}), seed ${result.record.seed}`,
    fetch: options.fetch,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}

export interface MergeAndPublishResult {
  merged: MergeRunResult;
  published: PublishResult;
  /** Shards sent, and shards the Hub already had (a re-run after a failure). */
  uploads: UploadStats;
}

/**
 * merge → publish with the upload overlapping the merge: each shard goes to the Hub as an LFS
 * object as soon as it is complete, and one commit at the end names them all. A failure before
 * that commit leaves the repo as it was (`merge --push`, the Action's apply).
 */
export async function mergeAndPublish(
  options: MergeRunOptions & { publish: PublishRunOptions },
): Promise<MergeAndPublishResult> {
  const read = "manifest" in options ? options.manifest : await readManifest(options.manifestPath);
  const target = await openPublishTarget(publishTargetOptions(read, options.seed, options.publish));
  let merged: MergeRunResult;
  try {
    merged = await runMerge({
      ...options,
      manifest: read,
      onShardClosed: (shard, path) =>
        target.uploads.add({ path: shard.file, size: shard.size, sha256: shard.sha256 }, path),
    });
  } catch (error) {
    await target.uploads.settle().catch(() => undefined);
    throw error;
  }
  const uploaded = await target.uploads.settle();
  const published = await target.commit(merged.outDir, uploaded);
  return { merged, published, uploads: target.uploads.stats };
}

/** Where and how a run's shards are uploaded: the manifest's output repo, and the commit's words. */
export function publishTargetOptions(
  read: ReadManifest,
  seed: bigint | undefined,
  options: PublishRunOptions,
) {
  const output = outputOf(read.manifest);
  return {
    hub: options.hub,
    repo: output.repo,
    private: output.private,
    overwrite: output.overwrite,
    commitTitle: `hubmerge: ${read.method.name} merge of ${read.refs.length} models`,
    commitDescription: `manifest ${read.manifest.file} (sha256 ${read.sha256}), seed ${seed ?? read.manifest.hubmerge.seed}`,
    fetch: options.fetch,
    retry: options.retry,
    signal: options.signal,
    onProgress: options.onProgress,
  };
}

function outputOf(manifest: Manifest) {
  const output = manifest.hubmerge.output;
  if (!output) {
    throw new HubmergeError("E_USAGE", "the manifest names no output repo to publish to", {
      where: { file: manifest.file },
      hint: "add hubmerge: {output: {repo: org/name}} to the manifest",
    });
  }
  return output;
}
