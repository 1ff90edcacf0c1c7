/**
 * Making the merge again from its pinned sources, in memory: the planner gives every output
 * tensor's recipe, the executor merges the chosen ones exactly as a merge does (same kernels, same
 * DARE streams: a tensor's bytes do not depend on which others are merged), and a DigestSink
 * hashes them instead of writing shards.
 */
import { HubmergeError, isHubmergeError } from "../errors.js";
import { executePlan } from "../merge/execute.js";
import type { BackendName } from "../merge/kernels/index.js";
import type { LoadedModel } from "../merge/loaded-model.js";
import { outputMetadata } from "../merge/output-metadata.js";
import type { MergePlan, TensorRecipe } from "../merge/plan/types.js";
import type { DareRescale } from "../merge/types.js";
import type { RunRecord, TensorDigest } from "../run-record.js";
import { encodeShardHeader, shardMetadata } from "../safetensors/shard-header.js";
import { plannedSize, type PlannedShard, type ShardPlan } from "../safetensors/shard-plan.js";
import { pinnedResolver } from "../source/pinned-resolver.js";
import type { SourceResolver } from "../source/resolve.js";
import { DigestSink } from "./digest-sink.js";
import { verdict, type Verdict } from "./verdict.js";

/**
 * Opens each Hub source at the revision the record pins, whatever the manifest says; a source the
 * record does not pin, or one that is gone, is a verify failure rather than a Hub error.
 */
export function recordPinnedResolver(record: RunRecord, resolver: SourceResolver): SourceResolver {
  return pinnedResolver(resolver, record.sources, {
    unpinned: (ref) =>
      new HubmergeError("E_VERIFY", `the record pins no revision for ${ref.raw}`, {
        where: { model: ref.raw },
        hint: "the record and its manifest disagree: suspect a tampered hubmerge.json",
      }),
    unreachable: (ref, revision, error) => {
      if (!isHubmergeError(error, "E_HUB_NOT_FOUND")) return error;
      return new HubmergeError(
        "E_VERIFY",
        `source ${ref.raw} at revision ${revision} is no longer reachable`,
        {
          where: { model: ref.raw },
          hint: "the merge cannot be re-created: the source repo, or that commit of it, was deleted or made private (a token with access may help)",
          cause: error,
        },
      );
    },
  });
}

/**
 * The record's shard layout (which tensors, in which order, in which shard) with the plan's
 * dtypes and shapes: a merge's shard size is a flag the record does not keep, its layout is.
 * Tensors the record and the plan do not share are reported, and left out.
 */
export function recordedLayout(
  plan: MergePlan,
  digests: readonly TensorDigest[],
): { shards: ShardPlan; verdicts: Verdict[] } {
  const recipes = new Map(plan.recipes.map((r) => [r.name, r]));
  const files: PlannedShard[] = [];
  const verdicts: Verdict[] = [];
  for (const digest of digests) {
    const recipe = recipes.get(digest.name);
    if (!recipe) {
      verdicts.push(
        verdict(
          "tensor",
          "re-created",
          digest.name,
          digest.sha256,
          "not in the re-created plan",
          digest.shard,
        ),
      );
      continue;
    }
    recipes.delete(digest.name);
    let shard = files.at(-1);
    if (shard?.file !== digest.shard) files.push((shard = { file: digest.shard, tensors: [], size: 0 }));
    const tensor = { name: recipe.name, dtype: recipe.dtype, shape: recipe.shape };
    shard.tensors.push(tensor);
    shard.size += plannedSize(tensor);
  }
  for (const name of recipes.keys())
    verdicts.push(verdict("tensor", "re-created", name, "not in the record", "planned"));
  const shards = { files, totalSize: files.reduce((sum, f) => sum + f.size, 0) };
  return { shards, verdicts };
}

export interface RecreateInput {
  plan: MergePlan;
  models: ReadonlyMap<string, LoadedModel>;
  record: RunRecord;
  digests: readonly TensorDigest[];
  layout: ShardPlan;
  /** The tensors to merge again; every one (and every shard's digest) when undefined. */
  sampled: ReadonlySet<string> | undefined;
  dareRescale: DareRescale;
  backend?: BackendName;
  threads?: number;
}

/** Merges the chosen tensors again and compares them (and, for all tensors, the shards) with the record. */
export async function recreateAndCompare(input: RecreateInput): Promise<Verdict[]> {
  const { plan, record, layout, sampled } = input;
  const metadata = shardMetadata(outputMetadata(record.tool, plan.method.name));
  const inLayout = new Set(layout.files.flatMap((f) => f.tensors.map((t) => t.name)));
  const recipes = plan.recipes.filter(
    (r: TensorRecipe) => inLayout.has(r.name) && (!sampled || sampled.has(r.name)),
  );
  const ordered = orderLike(recipes, layout);
  const sink = new DigestSink(layout, metadata, sampled === undefined);
  const { shards } = await executePlan({
    plan: { ...plan, recipes: ordered, shards: layout },
    models: input.models,
    dir: "(verify: in memory)",
    seed: BigInt(record.seed),
    dareRescale: input.dareRescale,
    sink,
    backend: input.backend,
    threads: input.threads,
  });
  const made = new Map(shards.flatMap((s) => s.tensors.map((t) => [t.name, t.sha256] as const)));
  const verdicts = input.digests
    .filter((d) => made.has(d.name))
    .map((d) => verdict("tensor", "re-created", d.name, d.sha256, made.get(d.name)!, d.shard));
  if (sampled === undefined) {
    for (const shard of shards) {
      const recorded = record.files.find((f) => f.path === shard.file);
      verdicts.push(
        verdict("shard", "re-created", shard.file, recorded?.sha256 ?? "not in the record", shard.sha256),
      );
    }
  }
  return verdicts;
}

/** Each shard's header as the merge wrote it, for comparison with the published one. */
export function expectedHeaders(
  plan: MergePlan,
  record: RunRecord,
  layout: ShardPlan,
): Map<string, Uint8Array> {
  const metadata = shardMetadata(outputMetadata(record.tool, plan.method.name));
  return new Map(layout.files.map((f) => [f.file, encodeShardHeader(f.tensors, metadata)]));
}

/** The recipes in the layout's order (the executor hands tensors over in recipe order). */
function orderLike(recipes: TensorRecipe[], layout: ShardPlan): TensorRecipe[] {
  const position = new Map(
    layout.files.flatMap((f) => f.tensors.map((t) => t.name)).map((name, i) => [name, i]),
  );
  return [...recipes].sort((a, b) => position.get(a.name)! - position.get(b.name)!);
}
