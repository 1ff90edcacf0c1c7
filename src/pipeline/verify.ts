/**
 * `hubmerge verify` as a pipeline run: the target's record read back, its merge planned again
 * from the pinned sources, and the published files and re-created tensors compared with it.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { BackendName } from "../merge/kernels/index.js";
import { parseModelRef } from "../model-ref.js";
import { LocalSource } from "../source/local-source.js";
import { resolveLocalSource, type SourceResolver } from "../source/resolve.js";
import { TOOL } from "../version.js";
import {
  countingSource,
  DEFAULT_SAMPLE_FRACTION,
  readRecordFrom,
  recordPinnedResolver,
  verifyPlanned,
  type VerifyReport,
} from "../verify/index.js";
import { closeModels, planRun } from "./load.js";
import { readManifest } from "./read.js";

export interface VerifyRunOptions {
  /** A merge's output folder, or a Hub repo `org/name[@revision]` (opened with `resolver`). */
  target: string;
  /** Opens Hub references (the target and the sources); local folders only without one. */
  resolver?: SourceResolver;
  /** Every tensor and shard; else a sample of `fraction` of the bytes (default 2%). */
  full?: boolean;
  fraction?: number;
  /** Repeats an earlier sample (the report prints the seed it drew). */
  seedDraw?: number;
  backend?: BackendName;
  threads?: number;
}

/**
 * `hubmerge verify`: reads the target's hubmerge.json, plans the merge again from the record's
 * manifest and pinned sources, and compares the published files and the re-created tensors with
 * the record (src/verify/, docs/verify.md). Mismatches are in the report, not thrown.
 */
export async function verifyMerge(options: VerifyRunOptions): Promise<VerifyReport> {
  const started = performance.now();
  const resolver = options.resolver ?? resolveLocalSource;
  const published = { bytes: 0 };
  const sources = { bytes: 0 };
  const opened = await openVerifyTarget(options.target, resolver);
  const target = countingSource(opened, published);
  const { record, digests } = await readRecordFrom(target);
  const read = await readManifest({ text: record.manifestText!, path: record.manifest.file });
  const counted: SourceResolver = async (ref) => countingSource(await resolver(ref), sources);
  const planned = await planRun({ manifest: read, resolver: recordPinnedResolver(record, counted) });
  try {
    const result = await verifyPlanned({
      target,
      record,
      digests,
      manifestSha256: read.sha256,
      plan: planned.plan,
      models: planned.models,
      dareRescale: planned.manifest.hubmerge.dareRescale,
      full: options.full ?? false,
      fraction: options.full ? 1 : (options.fraction ?? DEFAULT_SAMPLE_FRACTION),
      seedDraw: options.seedDraw,
      backend: options.backend,
      threads: options.threads,
    });
    return {
      target: opened.revision ? `${opened.repo ?? opened.ref}@${opened.revision}` : opened.ref,
      mode: options.full ? "full" : "sample",
      fraction: options.full ? 1 : (options.fraction ?? DEFAULT_SAMPLE_FRACTION),
      seedDraw: result.seedDraw,
      tool: { record: `${record.tool.name} ${record.tool.version}`, current: `${TOOL.name} ${TOOL.version}` },
      tensors: result.tensors,
      bytesRead: { published: published.bytes, sources: sources.bytes },
      seconds: (performance.now() - started) / 1000,
      verdicts: result.verdicts,
      ok: result.verdicts.every((v) => v.ok),
    };
  } finally {
    await closeModels(planned.models);
  }
}

/** An existing folder is read as one; anything else is a Hub reference. */
async function openVerifyTarget(target: string, resolver: SourceResolver) {
  // A command-line argument, not a manifest entry: an absolute folder is fine here.
  const folder = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (folder) return LocalSource.open(target, resolve(target));
  return resolver(parseModelRef(target, process.cwd()));
}
