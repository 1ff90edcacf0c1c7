/**
 * The compatibility check: configs, tensor layouts, lineage and the delta probe, for every model
 * a manifest merges, against one reference. Runs after the models are opened (headers and
 * configs only) and before any merge work; reads a bounded sample of weights.
 */
import { HubmergeError } from "../errors.js";
import type { Manifest } from "../manifest/types.js";
import { countLayers } from "../merge/layer-names.js";
import type { LoadedModel } from "../merge/loaded-model.js";
import type { MergeMethod } from "../merge/types.js";
import { checkSliceRanges, diffConfigs } from "./config-diff.js";
import { judgeProbe, runDeltaProbe } from "./delta-probe.js";
import { diffLayouts, tensorTable } from "./layout-diff.js";
import { checkLineage, type LineageLookup } from "./lineage.js";
import { participantsOf, type CheckedModel } from "./participants.js";
import type { CompatReport, Finding, ProbeModelResult } from "./report.js";
import {
  resolveProbeOptions,
  resolveThresholds,
  type CompatThresholds,
  type ProbeOptions,
} from "./thresholds.js";

export interface CheckInput {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened, keyed by `modelKey` of its reference (as planRun makes them). */
  models: ReadonlyMap<string, LoadedModel>;
  /** Hub lineage; without it the lineage check is skipped. */
  lineageOf?: LineageLookup;
  thresholds?: Partial<CompatThresholds>;
  /** Probe limits, or false to skip the probe (configs and headers only, no weight read). */
  probe?: Partial<ProbeOptions> | false;
}

export async function runCheck(input: CheckInput): Promise<CompatReport> {
  const thresholds = resolveThresholds(input.thresholds);
  const probeOptions = input.probe === false ? undefined : resolveProbeOptions(input.probe);
  const { manifest, method } = input;
  const { reference, others } = participantsOf(manifest, input.models);
  const layersOf = (m: CheckedModel) => countLayers(m.loaded.tensors.tensorNames(), m.loaded.config);
  const slices =
    manifest.slices !== undefined || (manifest.modules ?? []).some((m) => m.slices !== undefined);
  const tokenizer =
    manifest.tokenizer && (manifest.tokenizer.key === "tokenizer" ? "tokenizer:" : "tokenizer_source");
  const referenceTable = tensorTable(reference.loaded.tensors);

  const perModel = new Map<string, Finding[]>(others.map((m) => [m.name, []]));
  const findings: Finding[] = checkSliceRanges({ ...reference, layerCount: layersOf(reference) });
  for (const model of others) {
    const layerCount = layersOf(model);
    perModel.get(model.name)!.push(
      ...checkSliceRanges({ ...model, layerCount }),
      ...diffConfigs({
        reference: { name: reference.name, config: reference.loaded.config },
        model: { name: model.name, config: model.loaded.config, pos: model.pos, slices: model.slices },
        method,
        tokenizer,
      }),
      ...diffLayouts({
        reference: { name: reference.name, tensors: referenceTable, layerCount: layersOf(reference) },
        model: { name: model.name, tensors: tensorTable(model.loaded.tensors), layerCount, pos: model.pos },
        method,
        slices,
        tokenizer,
      }),
    );
  }
  if (input.lineageOf) {
    for (const finding of await checkLineage(reference, others, input.lineageOf)) {
      perModel.get(finding.model)!.push(finding);
    }
  }
  let probe: ProbeModelResult[] = [];
  if (probeOptions && others.length > 0) {
    probe = await runDeltaProbe({
      reference: { ...reference, layerCount: layersOf(reference) },
      others,
      options: probeOptions,
    });
    probe.forEach((result, i) => {
      perModel.get(result.model)!.push(...judgeProbe(result, { pos: others[i]!.pos, method, thresholds }));
    });
  }
  for (const list of perModel.values()) findings.push(...list);
  return {
    manifest: manifest.file,
    method: method.name,
    reference: reference.name,
    models: [reference.name, ...others.map((m) => m.name)],
    findings,
    probe,
    blocking: findings.some((f) => f.severity === "blocking"),
  };
}

/** How many blocking findings an E_INCOMPATIBLE message lists before "and N more". */
const LISTED_BLOCKERS = 5;

/**
 * Throws E_INCOMPATIBLE when the report has a blocking finding, unless the manifest sets
 * `hubmerge.allow_incompatible: true` or the caller passes `allow` (--allow-incompatible,
 * --allow-crimes). Points at the first blocking finding's manifest line.
 */
export function assertCompatible(report: CompatReport, manifest: Manifest, allow = false): void {
  if (!report.blocking || allow || manifest.hubmerge.allowIncompatible) return;
  const blockers = report.findings.filter((f) => f.severity === "blocking");
  const first = blockers[0]!;
  const lines = blockers.slice(0, LISTED_BLOCKERS).map((f) => {
    const line = f.pos ? `line ${f.pos.line}, ` : "";
    return `  - ${line}${f.model}${f.field ? ` ${f.field}` : ""}: ${f.message}`;
  });
  if (blockers.length > LISTED_BLOCKERS) lines.push(`  - and ${blockers.length - LISTED_BLOCKERS} more`);
  throw new HubmergeError(
    "E_INCOMPATIBLE",
    `the models do not share a backbone with ${report.reference} (${blockers.length} blocking finding(s)):\n${lines.join("\n")}`,
    {
      where: { file: manifest.file, ...first.pos, model: first.model, tensor: first.tensor },
      hint: `${first.fix}; run \`hubmerge check\` for the full report, or set hubmerge.allow_incompatible: true (or pass --allow-incompatible) to merge anyway`,
    },
  );
}
