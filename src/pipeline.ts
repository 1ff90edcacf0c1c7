import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { collectCardSources } from "./card/collect-sources.js";
import { assertCompatible, runCheck, type CheckInput } from "./compat/check.js";
import type { LineageLookup } from "./compat/lineage.js";
import type { CompatReport } from "./compat/report.js";
import { renderMarkdown } from "./compat/render.js";
import { renderCard } from "./card/render-card.js";
import { HubmergeError } from "./errors.js";
import type { HubConfig } from "./hub/client/config.js";
import { publishFolder, type PublishEvent, type PublishResult } from "./hub/publish/publish.js";
import { parseMergeGraph, withIntermediates, type MergeGraph, type MergeStep } from "./manifest/multi-doc.js";
import { loadManifest, parseManifest } from "./manifest/parse.js";
import { referencedModels } from "./manifest/referenced-models.js";
import type { Manifest } from "./manifest/types.js";
import { validateManifest } from "./manifest/validate.js";
import { writeAuxFiles } from "./merge/aux-files.js";
import type { MergeEventListener } from "./merge/events.js";
import { executePlan } from "./merge/execute.js";
import type { BackendName } from "./merge/kernels/index.js";
import { loadLoraModel, loadModel, type LoadedModel } from "./merge/loaded-model.js";
import { methodRegistry } from "./merge/methods/registry.js";
import { StagedOutputDir } from "./merge/output-dir.js";
import { buildPlan } from "./merge/plan/build-plan.js";
import type { MergePlan } from "./merge/plan/types.js";
import type { MergeMethod } from "./merge/types.js";
import { modelKey, parseModelRef, sameModelRef, withoutLora, type ModelRef } from "./model-ref.js";
import { buildRunRecord, writeRunRecord, type RunRecord } from "./run-record.js";
import { LocalSource } from "./source/local-source.js";
import { resolveLocalSource, type SourceResolver } from "./source/resolve.js";
import { TOOL } from "./version.js";

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
export type { LoadedModel } from "./merge/loaded-model.js";
export type { RunRecord } from "./run-record.js";
export { DTYPE_SIZE } from "./safetensors/dtype.js";

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
}

interface MergeOptions extends PlanOptions {
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
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
}

export type MergeRunOptions = LoadRunOptions & MergeOptions;

export interface MergeRunResult extends PlannedRun {
  outDir: string;
  record: RunRecord;
  seconds: number;
  /** Which kernels ran, e.g. `wasm (16 threads)`: reported, never recorded in the output. */
  kernels: string;
}

/** manifest → parsed, validated, its models listed and its text hashed; nothing else is read. */
export async function readManifest(from: ManifestInput): Promise<ReadManifest> {
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
export async function readMergeGraph(from: ManifestInput): Promise<ReadGraph> {
  const path = typeof from === "string" ? from : from.path;
  let text: string;
  try {
    text = typeof from === "string" ? await readFile(from, "utf8") : from.text;
  } catch {
    // loadManifest words every way a file cannot be read.
    return graphOfOne(await readManifest(from));
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
  const record = await buildRunRecord({
    dir,
    manifest: { file: manifest.file, sha256: planned.manifestSha256 },
    method: planned.method.name,
    seed,
    dareRescale: manifest.hubmerge.dareRescale,
    // A LoRA adapter is a source too: its pinned revision is part of what the merge was made from.
    sources: [...models.values()].flatMap((m) => [
      { ref: m.ref, revision: m.source.revision ?? null },
      ...(m.adapter ? [{ ref: m.adapter.ref, revision: m.adapter.revision ?? null }] : []),
    ]),
    dtype: plan.torchDtype,
    shards,
    warnings: [...plan.warnings, ...warnings],
  });
  await writeRunRecord(dir, record);
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

/** A local model folder opened for reading its config and tensor headers (`hubmerge inspect`). */
export async function openLocalModel(path: string): Promise<LoadedModel> {
  return loadModel(await LocalSource.open(path, resolve(path)));
}

/** Releases the file handles and connections a planned run holds. */
export async function closeModels(models: Map<string, LoadedModel>): Promise<void> {
  await Promise.all([...models.values()].map((m) => m.tensors.close()));
}

function tokenizerModel(manifest: Manifest, models: Map<string, LoadedModel>): LoadedModel | undefined {
  const tokenizer = manifest.tokenizerSource;
  if (tokenizer === undefined || tokenizer === "base") return undefined;
  return models.get(modelKey(parseModelRef(tokenizer, manifest.dir)));
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
      const result = await runMerge({ ...options, manifest: read, out });
      const published =
        options.publish && manifest.hubmerge.output ? await publishMerge(result, options.publish) : undefined;
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
