/**
 * Multi-merge files (mergekit-multi) as runs: every merge planned whose inputs exist, then each
 * made in order, a named merge written (or published) before any merge that reads it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PublishResult } from "../hub/publish/publish.js";
import { withIntermediates } from "../manifest/multi-doc.js";
import { referencedModels } from "../manifest/referenced-models.js";
import type { ModelRef } from "../model-ref.js";
import { closeModels, planRun } from "./load.js";
import { runMerge } from "./merge.js";
import { mergeAndPublish } from "./publish.js";
import type { GraphStep, ReadGraph } from "./read.js";
import type {
  MergeOptions,
  MergeRunResult,
  PlannedRun,
  PlanOptions,
  PublishRunOptions,
  RunSources,
} from "./types.js";

/** One merge of a file, as `planGraph` saw it: planned, or waiting for the merges it reads. */
export interface PlannedStep {
  step: GraphStep;
  /** Absent when the step reads an earlier merge of the file, which does not exist before `merge`. */
  planned?: PlannedRun;
}

/** Plans every merge whose inputs exist now; the others are validated and placed in the order. */
export async function planGraph(graph: ReadGraph, options: RunSources & PlanOptions): Promise<PlannedStep[]> {
  const out: PlannedStep[] = [];
  for (const step of graph.steps) {
    if (step.uses.length > 0) {
      out.push({ step });
      continue;
    }
    const planned = await planRun({ ...options, manifest: step.read });
    await closeModels(planned.models);
    out.push({ step, planned });
  }
  return out;
}

export interface GraphMergeOptions extends RunSources, MergeOptions {
  /** Where named merges are written (mergekit's `--intermediate-dir`); a temporary folder by default. */
  intermediateDir?: string;
  /** Publish each merge whose document has `hubmerge.output`, and read it from there afterwards. */
  publish?: PublishRunOptions;
  onStep?: (step: GraphStep, index: number) => void;
}

export interface MergedStep {
  step: GraphStep;
  result: MergeRunResult;
  published?: PublishResult;
}

/** Runs a file's merges in order: each intermediate is made before any merge that reads it. */
export async function runGraph(graph: ReadGraph, options: GraphMergeOptions): Promise<MergedStep[]> {
  const temporary = options.intermediateDir === undefined && graph.steps.length > 1;
  const dir = temporary ? await mkdtemp(join(tmpdir(), "hubmerge-multi-")) : options.intermediateDir;
  const made = new Map<string, ModelRef>();
  const merged: MergedStep[] = [];
  try {
    for (const [index, step] of graph.steps.entries()) {
      options.onStep?.(step, index);
      const manifest = withIntermediates(step.read.manifest, made);
      const read = { ...step.read, manifest, refs: referencedModels(manifest) };
      const out = step.final ? options.out : join(dir!, step.name!);
      const { result, published } =
        options.publish && manifest.hubmerge.output
          ? await mergeAndPublish({ ...options, manifest: read, out, publish: options.publish }).then(
              ({ merged, published }) => ({ result: merged, published }),
            )
          : { result: await runMerge({ ...options, manifest: read, out }), published: undefined };
      if (step.name !== undefined) made.set(step.name, madeRef(step.name, result, published));
      merged.push({ step, result, ...(published && { published }) });
    }
    return merged;
  } finally {
    if (temporary) await rm(dir!, { recursive: true, force: true });
  }
}

/** A published intermediate is read from its repo at the commit just made; else from its folder. */
function madeRef(name: string, result: MergeRunResult, published: PublishResult | undefined): ModelRef {
  if (published === undefined) return { raw: name, kind: "local", path: resolve(result.outDir) };
  const repo = result.manifest.hubmerge.output!.repo;
  return { raw: `${repo}@${published.commitSha}`, kind: "hub", repo, revision: published.commitSha };
}
