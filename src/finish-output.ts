/**
 * What an output folder holds besides the shards: config, tokenizer, the run record and the card.
 * A function of the plan, the sources and the shards' sizes and hashes, so that a one-process
 * merge and the assembly of a merge split into parts write the same bytes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { collectCardSources } from "./card/collect-sources.js";
import { renderCard } from "./card/render-card.js";
import type { CompatReport } from "./compat/report.js";
import { renderMarkdown } from "./compat/render.js";
import { sliceBaseModels } from "./manifest/referenced-models.js";
import type { Manifest } from "./manifest/types.js";
import { writeAuxFiles } from "./merge/aux-files.js";
import type { ChosenChatTemplate } from "./merge/chat-template.js";
import type { MergeEventListener } from "./merge/events.js";
import type { LoadedModel } from "./merge/loaded-model.js";
import { outputMetadata } from "./merge/output-metadata.js";
import type { MergePlan } from "./merge/plan/types.js";
import type { MergeMethod } from "./merge/types.js";
import { buildRunRecord, writeRunRecord, type RunRecord } from "./run-record.js";
import type { WrittenShard } from "./safetensors/writer.js";
import { modelKey } from "./model-ref.js";
import { HubSource } from "./source/hub-source.js";
import { TOOL } from "./version.js";

export interface FinishInput {
  manifest: Manifest;
  method: MergeMethod;
  models: Map<string, LoadedModel>;
  manifestSha256: string;
  plan: MergePlan;
  compat?: CompatReport;
  /** The chat template chosen at plan time, if the manifest asks for one. */
  chatTemplate?: ChosenChatTemplate;
}

export interface FinishOptions {
  seed: bigint;
  /** Every shard of the plan, in plan order (the index, if any, is already in the folder). */
  shards: readonly WrittenShard[];
  /** Warnings of the execution, in the order they arose (the plan's come first on their own). */
  warnings: readonly string[];
  hubUrl?: string;
  /** Where the workflow run's build attestations are listed (the card links it). */
  provenanceUrl?: string;
  onEvent?: MergeEventListener;
}

/** The `__metadata__` every shard carries (it names this tool's version). */
export function shardMetadata(plan: MergePlan): Record<string, string> {
  return outputMetadata(TOOL, plan.method.name);
}

/** Writes config, tokenizer, hubmerge.json and README.md into `dir`; returns the run record. */
export async function finishOutput(
  planned: FinishInput,
  dir: string,
  options: FinishOptions,
): Promise<RunRecord> {
  const { manifest, plan, models } = planned;
  const { onEvent } = options;
  const reference = [...models.values()].find((m) => m.ref === plan.referenceModel)!;
  const tokenizer = (plan.tokenizer && models.get(plan.tokenizer.sourceKey)) ?? reference;
  await writeAuxFiles({
    dir,
    config: plan.config,
    configSource: reference.source,
    tokenizerSource: tokenizer.source,
    tokenizerFiles: plan.tokenizer?.files,
    chatTemplate: planned.chatTemplate?.text,
  });
  const record = await buildRunRecord({
    dir,
    manifest: { file: manifest.file, sha256: planned.manifestSha256 },
    method: planned.method.name,
    seed: options.seed,
    dareRescale: manifest.hubmerge.dareRescale,
    // A LoRA adapter is a source too: its pinned revision is part of what the merge was made from.
    sources: [...models.values()].flatMap((m) => [
      { ref: m.ref, revision: m.source.revision ?? null },
      ...(m.adapter ? [{ ref: m.adapter.ref, revision: m.adapter.revision ?? null }] : []),
    ]),
    dtype: plan.torchDtype,
    shards: options.shards,
    warnings: [...plan.warnings, ...options.warnings],
    ...([...models.values()].some((m) => m.source instanceof HubSource && m.source.readsVerifiedCache)
      ? { sourceCache: "verified" as const }
      : {}),
    manifestText: manifest.text,
  });
  await writeRunRecord(dir, record);
  const card = renderCard({
    manifest,
    method: plan.method,
    record,
    sources: await collectCardSources([...models.values()], cardBaseRefs(manifest, plan, models)),
    repo: manifest.hubmerge.output?.repo,
    hubUrl: options.hubUrl,
    compatibilityMarkdown: planned.compat && renderMarkdown(planned.compat),
    provenanceUrl: options.provenanceUrl,
    ...(plan.modules && { modules: plan.modules }),
  });
  card.warnings.forEach((message) => onEvent?.({ type: "warning", message }));
  await writeFile(join(dir, "README.md"), card.text);
  return record;
}

/** The sources the card calls "base": the top-level base and every slice's own, for methods that use one. */
function cardBaseRefs(manifest: Manifest, plan: MergePlan, models: Map<string, LoadedModel>): Set<string> {
  const bases = new Set<string>();
  if (plan.method.base === "none") return bases;
  if (manifest.baseModel) bases.add(plan.referenceModel);
  for (const ref of sliceBaseModels(manifest)) {
    const model = models.get(modelKey(ref));
    if (model) bases.add(model.ref);
  }
  return bases;
}
