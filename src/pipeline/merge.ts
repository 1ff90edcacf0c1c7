/**
 * plan → execute → finish: the whole merge of one manifest into a local folder, staged beside it
 * and swapped in only when complete.
 */
import { finishOutput, shardMetadata } from "../finish-output.js";
import { executePlan } from "../merge/execute.js";
import { StagedOutputDir } from "../merge/output-dir.js";
import type { RunRecord } from "../run-record.js";
import { closeModels, planRun } from "./load.js";
import { manifestWarnings } from "./read.js";
import type { MergeRunOptions, MergeRunResult, PlannedRun } from "./types.js";

/** The whole merge of one manifest into a local folder, atomically. */
export async function runMerge(options: MergeRunOptions): Promise<MergeRunResult> {
  const started = performance.now();
  // Checked first: a run that could not replace the output should not read any model.
  const output = await StagedOutputDir.create(options.out, { force: options.force });
  try {
    const planned = await planRun({ check: true, ...options });
    try {
      const { record, kernels } = await mergeInto(planned, output.stagingDir, options);
      await output.commit();
      const seconds = (performance.now() - started) / 1000;
      options.onEvent?.({ type: "done", files: record.files.map((f) => f.path), seconds });
      return { ...planned, outDir: output.finalDir, record, seconds, kernels };
    } finally {
      await closeModels(planned.models);
    }
  } catch (error) {
    await output.abort();
    throw error;
  }
}

/** Writes weights, config, tokenizer and the run record into `dir`. */
async function mergeInto(
  planned: PlannedRun,
  dir: string,
  options: MergeRunOptions,
): Promise<{ record: RunRecord; kernels: string }> {
  const { manifest, plan, models } = planned;
  const seed = options.seed ?? manifest.hubmerge.seed;
  const { onEvent } = options;
  for (const message of manifestWarnings(manifest)) onEvent?.({ type: "manifest-warning", message });
  plan.warnings.forEach((message) => onEvent?.({ type: "warning", message }));
  onEvent?.({
    type: "start",
    tensors: plan.recipes.length,
    inputBytes: plan.inputBytes,
    outputBytes: plan.shards.totalSize,
  });
  const { warnings, kernels, shards } = await executePlan({
    plan,
    models,
    dir,
    seed,
    dareRescale: manifest.hubmerge.dareRescale,
    metadata: shardMetadata(plan),
    onEvent,
    signal: options.signal,
    backend: options.backend,
    threads: options.threads,
    pieceElements: options.pieceElements,
    readAheadBytes: options.readAheadBytes,
    onReads: options.onReads,
    onShardClosed: options.onShardClosed,
  });
  const record = await finishOutput(planned, dir, {
    seed,
    shards,
    warnings,
    hubUrl: options.hubUrl,
    provenanceUrl: options.provenanceUrl,
    onEvent,
  });
  return { record, kernels };
}
