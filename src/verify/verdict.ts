/** What verify found, one line per tensor, shard or file it checked. */

export type VerdictKind = "tensor" | "shard" | "file";

/**
 * `re-created`: the merge made again from the pinned sources, against the record's digest.
 * `published`: the published bytes (read by range), against the record.
 */
export type VerdictCheck = "re-created" | "published";

export interface Verdict {
  kind: VerdictKind;
  check: VerdictCheck;
  /** The tensor name, or the file's path in the repo. */
  subject: string;
  ok: boolean;
  /** sha256 (hex) or a size, as the record has it, and as found. */
  expected: string;
  actual: string;
  /** The shard a tensor lives in. */
  shard?: string;
}

export function verdict(
  kind: VerdictKind,
  check: VerdictCheck,
  subject: string,
  expected: string,
  actual: string,
  shard?: string,
): Verdict {
  return { kind, check, subject, ok: expected === actual, expected, actual, ...(shard ? { shard } : {}) };
}
