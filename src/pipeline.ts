import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { collectCardSources } from "./card/collect-sources.js";
import { assertCompatible, runCheck } from "./compat/check.js";
import type { LineageLookup } from "./compat/lineage.js";
import type { CompatReport } from "./compat/report.js";
import { renderMarkdown } from "./compat/render.js";
import { renderCard } from "./card/render-card.js";
import { HubmergeError } from "./errors.js";
import type { HubConfig } from "./hub/config.js";
import { publishFolder, type PublishEvent, type PublishResult } from "./hub/publish.js";
import { loadManifest } from "./manifest/parse.js";
import { modelKey, parseModelRef, sameModelRef, type ModelRef } from "./manifest/model-ref.js";
import type { Manifest } from "./manifest/types.js";
import { validateManifest } from "./manifest/validate.js";
import { writeAuxFiles } from "./merge/aux-files.js";
import type { MergeEventListener } from "./merge/events.js";
import { executePlan, type ExecuteInput } from "./merge/execute.js";
import type { BackendName } from "./merge/kernels/select-backend.js";
import { loadModel, type LoadedModel } from "./merge/loaded-model.js";
import { methodRegistry } from "./merge/methods/registry.js";
import { RUN_RECORD_FILE, StagedOutputDir } from "./merge/output-dir.js";
import { buildPlan } from "./merge/plan/build-plan.js";
import type { MergePlan } from "./merge/plan/types.js";
import type { MergeMethod } from "./merge/types.js";
import { resolveLocalSource, type SourceResolver } from "./source/resolve.js";
import { TOOL } from "./version.js";
import type { WrittenShard } from "./safetensors/writer.js";
import { SHARD_INDEX_FILE } from "./safetensors/shard-index.js";

export interface LoadRunOptions {
  manifestPath: string;
  resolver?: SourceResolver;
}

export interface LoadedRun {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened (headers and configs only), by `modelKey`. */
  models: Map<string, LoadedModel>;
}

export interface PlanRunOptions extends LoadRunOptions {
  maxShardBytes?: number;
  /** Run the backbone compatibility check before planning (merges do). */
  check?: boolean;
  /** Merge even with blocking findings (the manifest's allow_incompatible also allows it). */
  allowIncompatible?: boolean;
  lineageOf?: LineageLookup;
  onCompatReport?: (report: CompatReport) => void;
}

export interface PlannedRun extends LoadedRun {
  plan: MergePlan;
  compat?: CompatReport;
}

export interface MergeRunOptions extends PlanRunOptions {
  out: string;
  /** Overrides the manifest's seed. */
  seed?: bigint;
  force?: boolean;
  /** Hub the card's links point at (the public Hub by default). */
  hubUrl?: string;
  /** Kernel backend and worker threads; the output bytes do not depend on either. */
  backend?: BackendName;
  threads?: number;
  /** Elements per piece of a large elementwise tensor (tests use small ones to cross boundaries). */
  pieceElements?: number;
  /** Bytes that reads from Hub sources may fetch ahead of the merge (default 1 GiB). */
  readAheadBytes?: number;
  /** Sees the run's planned reads (tests check the read-ahead budget). */
  onReads?: ExecuteInput["onReads"];
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
}

export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}

/** What a merge was made from and what it produced; written as hubmerge.json beside the weights. */
export interface RunRecord {
  tool: { name: string; version: string };
  manifest: { file: string; sha256: string };
  method: string;
  seed: string;
  dareRescale: string;
  sources: { ref: string; revision: string | null }[];
  dtype: string;
  files: OutputFile[];
  warnings: string[];
}

export interface MergeRunResult extends PlannedRun {
  outDir: string;
  record: RunRecord;
  seconds: number;
  /** Which kernels ran, e.g. `wasm (16 threads)`: reported, never recorded in the output. */
  kernels: string;
}

/** manifest → resolve → open: every model's headers and config, no weights. */
export async function loadRun(options: LoadRunOptions): Promise<LoadedRun> {
  const manifest = await loadManifest(options.manifestPath);
  validateManifest(manifest, methodRegistry);
  const method = methodRegistry.get(manifest.mergeMethod)!;
  const resolver = options.resolver ?? resolveLocalSource;
  const refs = referencedModels(manifest);
  const settled = await Promise.allSettled(refs.map(async (ref) => loadModel(await resolver(ref))));
  const models = new Map<string, LoadedModel>();
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") models.set(modelKey(refs[i]!), result.value);
  });
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    await closeModels(models);
    throw failed.reason;
  }
  return { manifest, method, models };
}

/** load → check (optional) → plan: everything up to the first full weight read. */
export async function planRun(options: PlanRunOptions): Promise<PlannedRun> {
  const loaded = await loadRun(options);
  const { manifest, method, models } = loaded;
  try {
    let compat: CompatReport | undefined;
    if (options.check) {
      compat = await runCheck({ manifest, method, models, lineageOf: options.lineageOf });
      options.onCompatReport?.(compat);
      assertCompatible(compat, manifest, options.allowIncompatible ?? false);
    }
    const plan = buildPlan({ manifest, method, models, maxShardBytes: options.maxShardBytes });
    return { ...loaded, plan, compat };
  } catch (error) {
    await closeModels(models);
    throw error;
  }
}

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
    metadata: { format: "pt", merged_by: `${TOOL.name} ${TOOL.version}`, merge_method: plan.method.name },
    onEvent,
    signal: options.signal,
    backend: options.backend,
    threads: options.threads,
    pieceElements: options.pieceElements,
    readAheadBytes: options.readAheadBytes,
    onReads: options.onReads,
  });
  const reference = [...models.values()].find((m) => m.ref === plan.referenceModel)!;
  const tokenizer = tokenizerModel(manifest, models) ?? reference;
  await writeAuxFiles({
    dir,
    config: plan.config,
    configSource: reference.source,
    tokenizerSource: tokenizer.source,
    chatTemplate: manifest.chatTemplate,
  });
  const record = await buildRunRecord(planned, dir, shards, seed, [...plan.warnings, ...warnings]);
  await writeFile(join(dir, RUN_RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
  const baseRef = plan.method.base !== "none" && manifest.baseModel ? plan.referenceModel : undefined;
  const card = renderCard({
    manifest,
    method: plan.method,
    record,
    sources: await collectCardSources([...models.values()], baseRef),
    repo: manifest.hubmerge.output?.repo,
    hubUrl: options.hubUrl,
    compatibilityMarkdown: planned.compat && renderMarkdown(planned.compat),
  });
  card.warnings.forEach((message) => onEvent?.({ type: "warning", message }));
  await writeFile(join(dir, "README.md"), card.text);
  return { record, kernels };
}

/** Releases the file handles and connections a planned run holds. */
export async function closeModels(models: Map<string, LoadedModel>): Promise<void> {
  await Promise.all([...models.values()].map((m) => m.tensors.close()));
}

/** Every model the manifest reads, once each, in manifest order. */
export function referencedModels(manifest: Manifest): ModelRef[] {
  const refs: ModelRef[] = [];
  const add = (ref: ModelRef | undefined) => {
    if (ref && !refs.some((r) => sameModelRef(r, ref))) refs.push(ref);
  };
  add(manifest.baseModel);
  manifest.models?.forEach((m) => add(m.ref));
  manifest.slices?.forEach((s) => s.sources.forEach((src) => add(src.ref)));
  const tokenizer = manifest.tokenizerSource;
  if (tokenizer !== undefined && tokenizer !== "base") {
    if (tokenizer === "union") {
      throw new HubmergeError("E_MANIFEST", "tokenizer_source: union is not supported yet", {
        where: { file: manifest.file, ...manifest.locate(["tokenizer_source"]) },
        hint: "use `base` or name the model whose tokenizer the merge should keep",
      });
    }
    add(parseModelRef(tokenizer, manifest.dir));
  }
  return refs;
}

function tokenizerModel(manifest: Manifest, models: Map<string, LoadedModel>): LoadedModel | undefined {
  const tokenizer = manifest.tokenizerSource;
  if (tokenizer === undefined || tokenizer === "base") return undefined;
  return models.get(modelKey(parseModelRef(tokenizer, manifest.dir)));
}

async function buildRunRecord(
  run: PlannedRun,
  dir: string,
  shards: readonly WrittenShard[],
  seed: bigint,
  warnings: string[],
): Promise<RunRecord> {
  const files: OutputFile[] = shards.map(({ file, size, sha256 }) => ({ path: file, size, sha256 }));
  if (files.length > 1) files.push(await describeFile(dir, SHARD_INDEX_FILE));
  return {
    tool: TOOL,
    manifest: { file: run.manifest.file, sha256: sha256(run.manifest.text) },
    method: run.method.name,
    seed: seed.toString(),
    dareRescale: run.manifest.hubmerge.dareRescale,
    sources: [...run.models.values()].map((m) => ({ ref: m.ref, revision: m.source.revision ?? null })),
    dtype: run.plan.torchDtype,
    files,
    warnings,
  };
}

/** Hashes a file as a stream: shards are gigabytes. */
async function describeFile(dir: string, path: string): Promise<OutputFile> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(join(dir, path))) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { path, size, sha256: hash.digest("hex") };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface PublishRunOptions {
  hub: HubConfig;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (event: PublishEvent) => void;
}

/** Publishes a finished merge to the manifest's output repo in one Hub commit. */
export async function publishMerge(
  result: MergeRunResult,
  options: PublishRunOptions,
): Promise<PublishResult> {
  const output = result.manifest.hubmerge.output;
  if (!output) {
    throw new HubmergeError("E_USAGE", "the manifest names no output repo to publish to", {
      where: { file: result.manifest.file },
      hint: "add hubmerge: {output: {repo: org/name}} to the manifest",
    });
  }
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
