import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { assertCompatible, runCheck, type CheckInput } from "./compat/check.js";
import type { LineageLookup } from "./compat/lineage.js";
import type { CompatReport } from "./compat/report.js";
import { HubmergeError } from "./errors.js";
import type { HubConfig } from "./hub/client/config.js";
import type { RetryOptions } from "./hub/client/retrying-fetch.js";
import { publishFolder, type PublishEvent, type PublishResult } from "./hub/publish/publish.js";
import { parseMergeGraph, withIntermediates, type MergeGraph, type MergeStep } from "./manifest/multi-doc.js";
import { loadManifest, parseManifest } from "./manifest/parse.js";
import { referencedModels } from "./manifest/referenced-models.js";
import type { Manifest } from "./manifest/types.js";
import { chooseChatTemplate, type ChosenChatTemplate } from "./merge/chat-template.js";
import { validateManifest } from "./manifest/validate.js";
import type { MergeEventListener } from "./merge/events.js";
import { executePlan, type ExecuteInput } from "./merge/execute.js";
import type { BackendName } from "./merge/kernels/index.js";
import { loadLoraModel, loadModel, type LoadedModel } from "./merge/loaded-model.js";
import { methodRegistry } from "./merge/methods/registry.js";
import { StagedOutputDir } from "./merge/output-dir.js";
import { buildPlan } from "./merge/plan/build-plan.js";
import type { MergePlan } from "./merge/plan/types.js";
import { planTokenizer } from "./merge/tokenizer/plan-tokenizer.js";
import type { MergeMethod } from "./merge/types.js";
import { modelKey, parseModelRef, sameModelRef, withoutLora, type ModelRef } from "./model-ref.js";
import type { RunRecord } from "./run-record.js";
import { LocalSource } from "./source/local-source.js";
import { resolveLocalSource, type SourceResolver } from "./source/resolve.js";
import { confineManifest } from "./source/workspace.js";
import { TOOL } from "./version.js";
import {
  countingSource,
  DEFAULT_SAMPLE_FRACTION,
  pinnedResolver as recordPinnedResolver,
  readRecordFrom,
  verifyPlanned,
  type VerifyReport,
} from "./verify/index.js";
import { openPublishTarget, type PublishTarget } from "./hub/publish/publish-uploaded.js";
import type { UploadStats } from "./hub/publish/upload-shards.js";
import { assembleInto, matchShardPlan } from "./parts/assemble.js";
import { checkReceipts } from "./parts/check-receipts.js";
import { mergePart } from "./parts/part-run.js";
import { checkPins, pinnedResolver, PINS_FORMAT, type Pins } from "./parts/pins.js";
import { findReceipts, readPartReceipt, type PartReceipt } from "./parts/receipt.js";
import type { PartSpec } from "./parts/split.js";
import { finishOutput, shardMetadata } from "./finish-output.js";

// What the faces (cli/, action/, bot/) need from the stages, re-exported so that this file is
// their one way into the engine (eslint's no-restricted-imports keeps it so).
export { assertCompatible } from "./compat/check.js";
export { renderJson, renderMarkdown, renderText } from "./compat/render.js";
export type { CompatReport } from "./compat/report.js";
export { parseThresholdOverrides } from "./compat/thresholds.js";
export type { MergeGraph, MergeStep } from "./manifest/multi-doc.js";
export { referencedModels } from "./manifest/referenced-models.js";
export type { Manifest } from "./manifest/types.js";
export type { MergeEvent, MergeEventListener } from "./merge/events.js";
export { BACKEND_NAMES, type BackendName } from "./merge/kernels/index.js";
export { gpuReadiness, WEBGPU_PATH_ENV, type GpuReadiness } from "./merge/kernels/webgpu/webgpu-module.js";
export type { LoadedModel } from "./merge/loaded-model.js";
export type { RunRecord } from "./run-record.js";
export { DTYPE_SIZE } from "./safetensors/dtype.js";
export { renderVerifyReport, verifyFailure, type VerifyReport } from "./verify/index.js";
export type { UploadStats } from "./hub/publish/upload-shards.js";
export { PINS_FORMAT, readPins, writePins, type Pins } from "./parts/pins.js";
export { AUTO_PART_BYTES, partCount } from "./parts/count.js";
export { parsePartSpec, type PartSpec } from "./parts/split.js";
export { receiptFileName, type PartReceipt } from "./parts/receipt.js";

/** A manifest file's path, or its text and the path it stands for (e.g. one read from GitHub). */
export type ManifestInput = string | { text: string; path: string };

/** A manifest read and validated once, with what every later stage asks of it. */
export interface ReadManifest {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model it names, once each, in manifest order. */
  refs: ModelRef[];
  /** SHA-256 of its text: what the run record and the lockfile remember it by. */
  sha256: string;
}

interface RunSources {
  resolver?: SourceResolver;
}

/** The manifest by path, or as `readManifest` returned it (then it is not read again). */
export type LoadRunOptions = RunSources & ({ manifestPath: string } | { manifest: ReadManifest });

export interface LoadedRun {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened (headers and configs only), by `modelKey`. */
  models: Map<string, LoadedModel>;
  /** SHA-256 of the manifest's text. */
  manifestSha256: string;
}

interface PlanOptions {
  maxShardBytes?: number;
  /** Run the backbone compatibility check before planning (merges do). */
  check?: boolean;
  /** Merge even with blocking findings (the manifest's allow_incompatible also allows it). */
  allowIncompatible?: boolean;
  lineageOf?: LineageLookup;
  onCompatReport?: (report: CompatReport) => void;
}

export type PlanRunOptions = LoadRunOptions & PlanOptions;

export interface PlannedRun extends LoadedRun {
  plan: MergePlan;
  compat?: CompatReport;
  /** The chat template the merge writes, chosen now so that it cannot fail after merging. */
  chatTemplate?: ChosenChatTemplate;
}

interface MergeOptions extends PlanOptions {
  out: string;
  /** Overrides the manifest's seed. */
  seed?: bigint;
  force?: boolean;
  /** Hub the card's links point at (the public Hub by default). */
  hubUrl?: string;
  /** Where the card says the build's provenance attestation is (the Action's repo), when known. */
  provenanceUrl?: string;
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
  /** Each shard as soon as it is complete (an upload that overlaps the merge). */
  onShardClosed?: ExecuteInput["onShardClosed"];
}

export type MergeRunOptions = LoadRunOptions & MergeOptions;

export interface MergeRunResult extends PlannedRun {
  outDir: string;
  record: RunRecord;
  seconds: number;
  /** Which kernels ran, e.g. `wasm (16 threads)`: reported, never recorded in the output. */
  kernels: string;
}

/**
 * manifest → parsed, validated, its models listed and its text hashed; nothing else is read.
 * With `workspace`, a manifest file that resolves outside it (a symlink) is refused unread.
 */
export async function readManifest(
  from: ManifestInput,
  options: { workspace?: string } = {},
): Promise<ReadManifest> {
  if (typeof from === "string") await confineManifest(options.workspace, from);
  const manifest = typeof from === "string" ? await loadManifest(from) : parseManifest(from.text, from.path);
  return readManifestOf(manifest);
}

function readManifestOf(manifest: Manifest): ReadManifest {
  validateManifest(manifest, methodRegistry);
  const method = methodRegistry.get(manifest.mergeMethod)!;
  const sha256 = createHash("sha256").update(manifest.text).digest("hex");
  return { manifest, method, refs: referencedModels(manifest), sha256 };
}

/** A merge of a file, read as `readManifest` reads a one-document manifest. */
export interface GraphStep extends MergeStep {
  read: ReadManifest;
  final: boolean;
}

/** A manifest file as its merges: one step for an ordinary manifest, several for mergekit-multi. */
export interface ReadGraph {
  file: string;
  steps: GraphStep[];
  /** SHA-256 of the whole file: a multi-merge file is one unit for the lockfile. */
  sha256: string;
  /** The models the file reads from outside it (its merges' own names left out), once each. */
  refs: ModelRef[];
}

/** A file → its merges in run order, each parsed and validated; nothing else is read. */
export async function readMergeGraph(
  from: ManifestInput,
  options: { workspace?: string } = {},
): Promise<ReadGraph> {
  const path = typeof from === "string" ? from : from.path;
  if (typeof from === "string") await confineManifest(options.workspace, from);
  let text: string;
  try {
    text = typeof from === "string" ? await readFile(from, "utf8") : from.text;
  } catch {
    // loadManifest words every way a file cannot be read.
    return graphOfOne(await readManifest(from, options));
  }
  const graph: MergeGraph | undefined = parseMergeGraph(text, path);
  if (graph === undefined) return graphOfOne(await readManifest({ text, path }));
  const steps = graph.steps.map((step) => ({
    ...step,
    read: readManifestOf(step.manifest),
    final: step === graph.final,
  }));
  const names = new Set(steps.map((step) => step.name));
  const refs: ModelRef[] = [];
  for (const ref of steps.flatMap((step) => step.read.refs)) {
    if (!names.has(ref.raw) && !refs.some((known) => sameModelRef(known, ref))) refs.push(ref);
  }
  return { file: path, steps, sha256: createHash("sha256").update(text).digest("hex"), refs };
}

function graphOfOne(read: ReadManifest): ReadGraph {
  const { manifest, sha256, refs } = read;
  const step = { manifest, uses: [], pos: { line: 1, column: 1 }, read, final: true };
  return { file: manifest.file, steps: [step], sha256, refs };
}

/** manifest → resolve → open: every model's headers and config, no weights. */
export async function loadRun(options: LoadRunOptions): Promise<LoadedRun> {
  const read = "manifest" in options ? options.manifest : await readManifest(options.manifestPath);
  const { manifest, method, refs } = read;
  const resolver = options.resolver ?? resolveLocalSource;
  const settled = await Promise.allSettled(
    refs.map(async (ref) =>
      ref.lora
        ? loadLoraModel(await resolver(withoutLora(ref)), await resolver(ref.lora))
        : loadModel(await resolver(ref)),
    ),
  );
  const models = new Map<string, LoadedModel>();
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") models.set(modelKey(refs[i]!), result.value);
  });
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    await closeModels(models);
    throw failed.reason;
  }
  return { manifest, method, models, manifestSha256: read.sha256 };
}

export type CheckRunOptions = LoadRunOptions & Pick<CheckInput, "lineageOf" | "thresholds" | "probe">;

/** load → check: the compatibility report alone (`hubmerge check`); the models are closed again. */
export async function checkRun(
  options: CheckRunOptions,
): Promise<{ manifest: Manifest; report: CompatReport }> {
  const { manifest, method, models } = await loadRun(options);
  try {
    const { lineageOf, thresholds, probe } = options;
    return { manifest, report: await runCheck({ manifest, method, models, lineageOf, thresholds, probe }) };
  } finally {
    await closeModels(models);
  }
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
    const tokenizer = await planTokenizer(manifest, models);
    const plan = buildPlan({ manifest, method, models, maxShardBytes: options.maxShardBytes, tokenizer });
    const chatTemplate = await planChatTemplate(manifest, models, plan.warnings);
    return { ...loaded, plan, compat, ...(chatTemplate && { chatTemplate }) };
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

/** The manifest's own warnings (ignored keys, parameters a method ignores), as `file:line:column: message`. */
export function manifestWarnings(manifest: Manifest): string[] {
  return manifest.warnings.map((w) => `${manifest.file}:${w.pos.line}:${w.pos.column}: ${w.message}`);
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

/** A local model folder opened for reading its config and tensor headers (`hubmerge inspect`). */
export async function openLocalModel(path: string): Promise<LoadedModel> {
  return loadModel(await LocalSource.open(path, resolve(path)));
}

/** Releases the file handles and connections a planned run holds. */
export async function closeModels(models: Map<string, LoadedModel>): Promise<void> {
  await Promise.all([...models.values()].map((m) => m.tensors.close()));
}

async function planChatTemplate(
  manifest: Manifest,
  models: Map<string, LoadedModel>,
  warnings: string[],
): Promise<ChosenChatTemplate | undefined> {
  if (manifest.chatTemplate === undefined) return undefined;
  const sources = [...models.values()].map((m) => ({ ref: m.ref, source: m.source }));
  const chosen = await chooseChatTemplate(manifest.chatTemplate, sources);
  if (!chosen) warnings.push("chat_template: auto found no chat template in any source; none is written");
  return chosen;
}

export interface PublishRunOptions {
  hub: HubConfig;
  fetch?: typeof fetch;
  /** Retries of Hub requests (tests shorten the backoff). */
  retry?: RetryOptions;
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

function publishTargetOptions(read: ReadManifest, seed: bigint | undefined, options: PublishRunOptions) {
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
  const earlier = await finishedPart(options, read, seed, target);
  if (earlier) return { receipt: earlier, outDir: resolve(options.out), uploads: target?.uploads.stats };
  // A folder holding this part's earlier receipt is a part output: a re-run may replace it.
  const previous = await readPartReceipt(options.out, options.part);
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
  options: PartRunOptions,
  read: ReadManifest,
  seed: bigint,
  target: PublishTarget | undefined,
): Promise<PartReceipt | undefined> {
  const receipt = await readPartReceipt(options.out, options.part);
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

/** Checks the parts' receipts, then writes the whole output locally or publishes it in one commit. */
export async function assembleParts(
  options: AssembleRunOptions,
): Promise<{ record: RunRecord; outDir?: string; published?: PublishResult }> {
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
    if (options.out !== undefined) {
      const output = await StagedOutputDir.create(options.out, { force: options.force });
      try {
        const record = await assembleInto(planned, parts, output.stagingDir, {
          ...options,
          copyShards: true,
        });
        await output.commit();
        return { record, outDir: output.finalDir };
      } catch (error) {
        await output.abort();
        throw error;
      }
    }
    if (!options.publish) throw new HubmergeError("E_USAGE", "assembling parts needs --out DIR or the Hub");
    const seed = BigInt(parts.first.seed);
    const target = await openPublishTarget(publishTargetOptions(read, seed, options.publish));
    const scratch = await mkdtemp(join(tmpdir(), "hubmerge-assemble-"));
    try {
      const record = await assembleInto(planned, parts, scratch, { ...options, copyShards: false });
      const shards = parts.shards.map((s) => ({ path: s.file, size: s.size, sha256: s.sha256 }));
      return { record, published: await target.commit(scratch, shards) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
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
