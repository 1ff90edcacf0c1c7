/**
 * The assembly of a split merge: after the receipts are checked (check-receipts.ts) and match the
 * shard plan, the folder gets what a one-process merge writes besides the shards — the index
 * (from the plan), config, tokenizer, hubmerge.json and the card — with the shards' sizes and
 * hashes taken from the receipts. Locally the shards are copied in and verified; for the Hub they
 * stay where the parts uploaded them and the commit names them.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import { finishOutput, type FinishInput } from "../finish-output.js";
import type { MergeEventListener } from "../merge/events.js";
import type { RunRecord } from "../run-record.js";
import { encodeShardIndex, SHARD_INDEX_FILE } from "../safetensors/shard-index.js";
import type { CheckedParts } from "./check-receipts.js";

export interface AssembleOptions {
  /** Copy each part's shards into the folder (a local assembly) or leave them (a Hub one). */
  copyShards: boolean;
  hubUrl?: string;
  onEvent?: MergeEventListener;
}

/** The receipts' shards must be exactly the plan's, in the plan's order. */
export function matchShardPlan(planned: FinishInput, parts: CheckedParts): void {
  const planned_ = planned.plan.shards.files.map((f) => f.file);
  const received = parts.shards.map((s) => s.file);
  if (JSON.stringify(planned_) !== JSON.stringify(received)) {
    throw new HubmergeError(
      "E_USAGE",
      `cannot assemble the parts: their shards (${received.join(", ")}) are not the plan's (${planned_.join(", ")}); nothing was published`,
      { hint: "every part must run the same manifest with the same --shard-size and --pins" },
    );
  }
}

/**
 * Writes the output folder `dir` from checked parts that match the plan (the caller has run
 * matchShardPlan, before it opened any publish target); returns its run record.
 */
export async function assembleInto(
  planned: FinishInput,
  parts: CheckedParts,
  dir: string,
  options: AssembleOptions,
): Promise<RunRecord> {
  if (options.copyShards) {
    for (const shard of parts.shards) await copyVerified(shard, dir);
  }
  if (parts.shards.length > 1)
    await writeFile(join(dir, SHARD_INDEX_FILE), encodeShardIndex(planned.plan.shards));
  return finishOutput(planned, dir, {
    seed: BigInt(parts.first.seed),
    shards: parts.shards.map(({ file, size, sha256, tensors }) => ({ file, size, sha256, tensors })),
    warnings: parts.warnings,
    hubUrl: options.hubUrl,
    onEvent: options.onEvent,
  });
}

/** Copies a part's shard and checks it against its receipt (a part folder may have been altered). */
async function copyVerified(shard: CheckedParts["shards"][number], dir: string): Promise<void> {
  const target = join(dir, shard.file);
  try {
    await copyFile(join(shard.dir, shard.file), target);
  } catch (error) {
    throw new HubmergeError(
      "E_USAGE",
      `cannot assemble the parts: shard ${shard.file} is missing from ${shard.dir}`,
      {
        hint: "keep each part's shards beside its receipt (or publish to the Hub from uploaded parts)",
        cause: error,
      },
    );
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(target)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  if (size !== shard.size || hash.digest("hex") !== shard.sha256) {
    throw new HubmergeError(
      "E_USAGE",
      `cannot assemble the parts: ${join(shard.dir, shard.file)} is not the shard its receipt names (size or sha256 differ)`,
      { hint: "run that part again" },
    );
  }
}
