/**
 * One part of a split merge (`merge --part I/N`): the sources read at the pinned commits, only the
 * part's shards written, and a receipt that the assembly checks. A part that already finished is
 * not merged again.
 */
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openPublishTarget, type PublishTarget } from "../hub/publish/publish-uploaded.js";
import type { UploadStats } from "../hub/publish/upload-shards.js";
import { StagedOutputDir } from "../merge/output-dir.js";
import { mergePart } from "../parts/part-run.js";
import { checkPins, PINS_FORMAT, type Pins } from "../parts/pins.js";
import { readPartReceipt, type PartReceipt } from "../parts/receipt.js";
import type { PartSpec } from "../parts/split.js";
import { pinnedResolver } from "../source/pinned-resolver.js";
import { resolveLocalSource } from "../source/resolve.js";
import { TOOL } from "../version.js";
import { closeModels, planRun } from "./load.js";
import { publishTargetOptions } from "./publish.js";
import { readManifest, type ReadManifest } from "./read.js";
import type { LoadedRun, MergeRunOptions, PublishRunOptions } from "./types.js";

/** The pins of a planned run: every source at the commit it resolved to (`plan --pins`). */
export function pinsOf(run: LoadedRun): Pins {
  return {
    format: PINS_FORMAT,
    manifest: { file: run.manifest.file, sha256: run.manifestSha256 },
    sources: [...run.models.values()].map((m) => ({ ref: m.ref, revision: m.source.revision ?? null })),
  };
}

export type PartRunOptions = MergeRunOptions & {
  part: PartSpec;
  pins: Pins;
  /** Upload the part's shards to the output repo (no commit). */
  publish?: PublishRunOptions;
};

/** One part of a split merge: its shards and its receipt in `out`, uploaded with `publish`. */
export async function runPart(
  options: PartRunOptions,
): Promise<{ receipt: PartReceipt; outDir: string; uploads?: UploadStats }> {
  const read = "manifest" in options ? options.manifest : await readManifest(options.manifestPath);
  checkPins(options.pins, { file: read.manifest.file, sha256: read.sha256 }, read.refs);
  const resolver = pinnedResolver(options.resolver ?? resolveLocalSource, options.pins.sources);
  const target =
    options.publish && (await openPublishTarget(publishTargetOptions(read, options.seed, options.publish)));
  const seed = options.seed ?? read.manifest.hubmerge.seed;
  const previous = await readPartReceipt(options.out, options.part);
  const earlier = await finishedPart(previous, options, read, seed, target);
  if (earlier) return { receipt: earlier, outDir: resolve(options.out), uploads: target?.uploads.stats };
  // A folder holding this part's earlier receipt is a part output: a re-run may replace it.
  const output = await StagedOutputDir.create(options.out, {
    force: options.force || previous !== undefined,
  });
  try {
    const planned = await planRun({ check: true, ...options, manifest: read, resolver });
    try {
      const receipt = await mergePart({
        ...options,
        planned,
        dir: output.stagingDir,
        seed,
        maxShardBytes: options.maxShardBytes,
        uploads: target?.uploads,
      });
      await output.commit();
      return { receipt, outDir: output.finalDir, uploads: target?.uploads.stats };
    } finally {
      await closeModels(planned.models);
    }
  } catch (error) {
    await output.abort();
    throw error;
  }
}

/**
 * The receipt of an earlier run of this very part, when it is complete: same manifest, tool,
 * seed, pins and shard size, its shards in the folder at their sizes, and (with --push) on the
 * Hub. A re-run of a fan-out then skips the parts that finished.
 */
async function finishedPart(
  receipt: PartReceipt | undefined,
  options: PartRunOptions,
  read: ReadManifest,
  seed: bigint,
  target: PublishTarget | undefined,
): Promise<PartReceipt | undefined> {
  const same =
    receipt !== undefined &&
    receipt.manifest.sha256 === read.sha256 &&
    receipt.tool.version === TOOL.version &&
    receipt.seed === seed.toString() &&
    receipt.maxShardBytes === (options.maxShardBytes ?? null) &&
    JSON.stringify(receipt.sources) === JSON.stringify(options.pins.sources);
  if (!same) return undefined;
  for (const shard of receipt.shards) {
    const size = await stat(join(options.out, shard.file)).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== shard.size) return undefined;
  }
  if (!target) return receipt;
  const files = receipt.shards.map((s) => ({ path: s.file, size: s.size, sha256: s.sha256 }));
  return (await target.missing(files)).length === 0 ? receipt : undefined;
}
