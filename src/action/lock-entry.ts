import type { LockEntry } from "../lock/lockfile.js";
import type { RunRecord } from "../pipeline/index.js";
import { TOOL } from "../version.js";

/** The lockfile's entry for a merge published as `commit` of `repo`, from its run record. */
export function lockEntry(record: RunRecord, repo: string, commit: string): LockEntry {
  return {
    manifestSha256: record.manifest.sha256,
    seed: record.seed,
    tool: `${TOOL.name}@${TOOL.version}`,
    sources: Object.fromEntries(record.sources.map((s) => [s.ref, s.revision])),
    output: { repo, commit, files: Object.fromEntries(record.files.map((f) => [f.path, f.sha256])) },
  };
}
