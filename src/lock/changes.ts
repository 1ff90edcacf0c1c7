import type { LockEntry } from "./lockfile.js";

/** What a manifest looks like now, to compare with its lock entry. */
export interface CurrentState {
  manifestSha256: string;
  /** Source reference → the commit it resolves to now (null for local folders). */
  sources: Record<string, string | null>;
  toolVersion: string;
}

export interface MergeDecision {
  needed: boolean;
  /** Why a merge is needed, in words for logs, summaries and PR comments. */
  reasons: string[];
  /** Sources whose commit moved: ref → [locked, current]. */
  sourceChanges: Record<string, [string | null, string | null]>;
}

/**
 * A manifest needs a merge when it is new, its text changed, a source moved to another commit,
 * the tool's major version changed, or the run is forced. Otherwise the output stands.
 */
export function decideMerge(entry: LockEntry | undefined, now: CurrentState, force = false): MergeDecision {
  const reasons: string[] = [];
  const sourceChanges: Record<string, [string | null, string | null]> = {};
  if (force) reasons.push("forced");
  if (!entry) {
    reasons.push("new manifest (not in the lockfile)");
    return { needed: true, reasons, sourceChanges };
  }
  if (!entry.output) reasons.push("never published");
  if (entry.manifestSha256 !== now.manifestSha256) reasons.push("manifest changed");
  for (const ref of Object.keys({ ...entry.sources, ...now.sources }).sort()) {
    const locked = entry.sources[ref] ?? null;
    const current = now.sources[ref] ?? null;
    if (!(ref in now.sources) || !(ref in entry.sources) || locked !== current) {
      sourceChanges[ref] = [locked, current];
      reasons.push(`source ${ref}: ${short(locked)} → ${short(current)}`);
    }
  }
  if (major(toolVersionOf(entry.tool)) !== major(now.toolVersion)) {
    reasons.push(`tool major version: ${entry.tool} → ${now.toolVersion}`);
  }
  return { needed: reasons.length > 0, reasons, sourceChanges };
}

function toolVersionOf(tool: string): string {
  return tool.includes("@") ? tool.slice(tool.lastIndexOf("@") + 1) : tool;
}

function major(version: string): string {
  return version.split(".")[0] ?? version;
}

function short(sha: string | null): string {
  return sha === null ? "none" : sha.slice(0, 7);
}
