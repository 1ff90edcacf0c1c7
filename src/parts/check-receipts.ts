/**
 * The assembly's refusals: receipts of one merge must agree on everything the bytes depend on
 * (manifest, tool version, seed, pinned revisions, shard plan), cover every part exactly once and
 * name every shard of the plan exactly once. Any doubt refuses the whole publish.
 */
import { HubmergeError } from "../errors.js";
import type { WrittenShard } from "../safetensors/writer.js";
import type { FoundReceipt, PartReceipt } from "./receipt.js";

export interface ReceiptExpectations {
  manifest: { file: string; sha256: string };
  tool: { name: string; version: string };
}

/** What the receipts agree on, and every shard in part order with the folder that holds it. */
export interface CheckedParts {
  first: PartReceipt;
  shards: (WrittenShard & { dir: string })[];
  /** The parts' warnings, in part order, each once. */
  warnings: string[];
}

export function checkReceipts(found: readonly FoundReceipt[], expected: ReceiptExpectations): CheckedParts {
  if (found.length === 0)
    throw refusal("no part receipts were found", "run the parts first (merge --part I/N)");
  const first = found[0]!.receipt;
  for (const { receipt, path } of found) checkAgrees(receipt, first, path, found[0]!.path, expected);
  const byIndex = new Map<number, FoundReceipt>();
  for (const item of found) {
    const twin = byIndex.get(item.receipt.part.index);
    if (twin) {
      throw refusal(
        `part ${item.receipt.part.index}/${first.part.count} appears twice (${twin.path} and ${item.path})`,
        "keep one receipt per part",
      );
    }
    byIndex.set(item.receipt.part.index, item);
  }
  const missing = Array.from({ length: first.part.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw refusal(
      `part(s) ${missing.map((i) => `${i}/${first.part.count}`).join(", ")} are missing`,
      "run the missing parts (merge --part I/N), then publish again",
    );
  }
  const shards: CheckedParts["shards"] = [];
  const seen = new Set<string>();
  const warnings: string[] = [];
  for (let i = 1; i <= first.part.count; i++) {
    const { receipt, dir } = byIndex.get(i)!;
    for (const shard of receipt.shards) {
      if (seen.has(shard.file))
        throw refusal(`shard ${shard.file} appears in two parts`, "run the parts again");
      seen.add(shard.file);
      shards.push({ ...shard, dir });
    }
    for (const warning of receipt.warnings) if (!warnings.includes(warning)) warnings.push(warning);
  }
  if (shards.length !== first.shardCount) {
    throw refusal(
      `the parts hold ${shards.length} shard(s) but the merge has ${first.shardCount}`,
      "run the parts again",
    );
  }
  return { first, shards, warnings };
}

function checkAgrees(
  receipt: PartReceipt,
  first: PartReceipt,
  path: string,
  firstPath: string,
  expected: ReceiptExpectations,
): void {
  const file = expected.manifest.file;
  if (receipt.manifest.sha256 !== expected.manifest.sha256) {
    throw refusal(
      `${path} is a part of another manifest (sha256 ${receipt.manifest.sha256.slice(0, 12)}, ${file} is ${expected.manifest.sha256.slice(0, 12)})`,
      "publish with the manifest the parts were merged from, or merge the parts again",
    );
  }
  if (receipt.tool.name !== expected.tool.name || receipt.tool.version !== expected.tool.version) {
    throw refusal(
      `${path} was made by ${receipt.tool.name} ${receipt.tool.version}, this is ${expected.tool.version}`,
      "publish with the same hubmerge version the parts ran",
    );
  }
  const differs = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    throw refusal(
      `${path} and ${firstPath} disagree on the ${what} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`,
      "every part must run the same manifest with the same --seed, --pins and --shard-size",
    );
  };
  differs("seed", receipt.seed, first.seed);
  differs("source revisions", receipt.sources, first.sources);
  differs("shard size", receipt.maxShardBytes, first.maxShardBytes);
  differs("number of parts", receipt.part.count, first.part.count);
  differs("number of shards", receipt.shardCount, first.shardCount);
}

function refusal(message: string, hint: string): HubmergeError {
  return new HubmergeError("E_USAGE", `cannot assemble the parts: ${message}; nothing was published`, {
    hint,
  });
}
