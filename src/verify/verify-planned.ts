/**
 * The comparisons of one verify, once the record is read and the merge planned again: the draw
 * of the sample, the published files against the record, and the re-created tensors (and, in
 * full mode, shards) against it. The pipeline reads the record and plans; this does the rest.
 */
import type { BackendName } from "../merge/kernels/index.js";
import type { LoadedModel } from "../merge/loaded-model.js";
import type { MergePlan } from "../merge/plan/types.js";
import type { DareRescale } from "../merge/types.js";
import type { RunRecord, TensorDigest } from "../run-record.js";
import { plannedSize } from "../safetensors/shard-plan.js";
import type { ModelSource } from "../source/model-source.js";
import { checkPublished } from "./published.js";
import { expectedHeaders, recordedLayout, recreateAndCompare } from "./recreate.js";
import { drawSample, newSeedDraw } from "./sample.js";
import { verdict, type Verdict } from "./verdict.js";

export interface VerifyPlannedInput {
  target: ModelSource;
  record: RunRecord;
  digests: readonly TensorDigest[];
  /** sha256 of the manifest text the record carries. */
  manifestSha256: string;
  plan: MergePlan;
  models: ReadonlyMap<string, LoadedModel>;
  dareRescale: DareRescale;
  full: boolean;
  fraction: number;
  seedDraw: number | undefined;
  backend?: BackendName;
  threads?: number;
}

export interface VerifyPlannedResult {
  verdicts: Verdict[];
  seedDraw: number | undefined;
  tensors: { checked: number; total: number; bytes: number; totalBytes: number };
}

export async function verifyPlanned(input: VerifyPlannedInput): Promise<VerifyPlannedResult> {
  const { record, plan, full } = input;
  const verdicts = [verdict("file", "re-created", "manifest", record.manifest.sha256, input.manifestSha256)];
  const { shards: layout, verdicts: layoutVerdicts } = recordedLayout(plan, input.digests);
  verdicts.push(...layoutVerdicts);
  const candidates = layout.files.flatMap((f) =>
    f.tensors.map((t) => ({ name: t.name, bytes: plannedSize(t) })),
  );
  const seedDraw = full ? undefined : (input.seedDraw ?? newSeedDraw());
  const sampled = full ? undefined : drawSample(candidates, input.fraction, seedDraw!);
  const checked = candidates.filter((c) => !sampled || sampled.has(c.name));
  verdicts.push(
    ...(await checkPublished({
      target: input.target,
      record,
      digests: input.digests,
      sampled: sampled ?? new Set(candidates.map((c) => c.name)),
      expectedHeaders: expectedHeaders(plan, record, layout),
    })),
  );
  verdicts.push(
    ...(await recreateAndCompare({
      plan,
      models: input.models,
      record,
      digests: input.digests,
      layout,
      sampled,
      dareRescale: input.dareRescale,
      backend: input.backend,
      threads: input.threads,
    })),
  );
  const sum = (list: { bytes: number }[]) => list.reduce((total, c) => total + c.bytes, 0);
  return {
    verdicts,
    seedDraw,
    tensors: {
      checked: checked.length,
      total: candidates.length,
      bytes: sum(checked),
      totalBytes: sum(candidates),
    },
  };
}
