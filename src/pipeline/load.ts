/**
 * resolve → open → check → plan: every model's headers and config, the compatibility report and
 * the merge plan, with no weight read. Whatever fails after the models are open closes them.
 */
import { resolve } from "node:path";
import { assertCompatible, runCheck, type CheckInput } from "../compat/check.js";
import type { CompatReport } from "../compat/report.js";
import type { Manifest } from "../manifest/types.js";
import { chooseChatTemplate, type ChosenChatTemplate } from "../merge/chat-template.js";
import { loadLoraModel, loadModel, type LoadedModel } from "../merge/loaded-model.js";
import { buildPlan } from "../merge/plan/build-plan.js";
import { planTokenizer } from "../merge/tokenizer/plan-tokenizer.js";
import { modelKey, withoutLora } from "../model-ref.js";
import { LocalSource } from "../source/local-source.js";
import { resolveLocalSource } from "../source/resolve.js";
import { readManifest } from "./read.js";
import type { LoadedRun, LoadRunOptions, PlannedRun, PlanRunOptions } from "./types.js";

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
