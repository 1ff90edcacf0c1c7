import { formatBytes } from "../format.js";
import { renderMarkdown } from "../pipeline/index.js";
import type { Assessment } from "./assess.js";

/** What apply did with one manifest. */
export interface ApplyResult {
  manifest: string;
  /** `uploaded`: one part of a split merge, its shards on the Hub for the publish job to commit. */
  status: "published" | "uploaded" | "up-to-date" | "failed" | "skipped";
  /** The part (`I/N`) this job merged, in a split merge. */
  part?: string;
  repo?: string;
  commit?: string;
  url?: string;
  error?: string;
  /** The kernels that merged it, e.g. `webgpu (NVIDIA H100) + wasm (16 threads)`. */
  kernels?: string;
  /** The output repo already held these bytes, so no Hub commit was made. */
  unchanged?: true;
}

/** The Markdown for the job summary and the PR comment: a table, then a section per manifest. */
export function renderReport(
  mode: "plan" | "apply",
  assessments: Assessment[],
  results: ApplyResult[] = [],
): string {
  const lines = [`## hubmerge ${mode}`, ""];
  const needed = assessments.filter((a) => a.decision?.needed);
  const invalid = assessments.filter((a) => a.error);
  lines.push(
    `${assessments.length} manifest(s): ${needed.length} need a merge, ${invalid.length} with errors, ` +
      `${assessments.length - needed.length - invalid.length} up to date.`,
    "",
    "| manifest | status | output repo | download | upload |",
    "|---|---|---|---|---|",
  );
  for (const a of assessments) {
    const result = results.find((r) => r.manifest === a.file);
    lines.push(
      `| \`${a.file}\` | ${statusOf(a, result)} | ${repoOf(a, result)} | ${size(a.inputBytes)} | ${size(a.outputBytes)} |`,
    );
  }
  for (const a of assessments) {
    if (!a.error && !a.decision?.needed) continue;
    lines.push("", `### \`${a.file}\``, "");
    if (a.error) {
      const where = a.error.where.line ? ` (line ${a.error.where.line})` : "";
      lines.push(`**Error${where}:** ${a.error.message}`);
      if (a.error.hint) lines.push("", `How to fix: ${a.error.hint}`);
      continue;
    }
    lines.push(`Why: ${a.decision!.reasons.join("; ")}.`, "", "| source | locked | now |", "|---|---|---|");
    for (const [ref, now] of Object.entries(a.sources)) {
      lines.push(`| \`${ref}\` | ${lockedCell(a, ref, now)} | ${sha(now)} |`);
    }
    const result = results.find((r) => r.manifest === a.file);
    if (result?.kernels) lines.push("", `Merged on ${result.kernels}.`);
    if (result?.unchanged) {
      lines.push("", `The merge produced the bytes ${result.repo} already holds: no Hub commit was made.`);
    }
    if (result?.error) lines.push("", `**Failed:** ${result.error}`);
    if (a.compat) lines.push("", renderMarkdown(a.compat).trim());
  }
  return lines.join("\n") + "\n";
}

function statusOf(a: Assessment, result: ApplyResult | undefined): string {
  if (a.error) return "❌ invalid";
  if (result)
    return result.unchanged
      ? "✅ unchanged (no commit)"
      : {
          published: "✅ published",
          uploaded: `⬆️ part ${result.part} uploaded`,
          "up-to-date": "up to date",
          failed: "❌ failed",
          skipped: "skipped",
        }[result.status];
  if (!a.decision?.needed) return "up to date";
  if (a.compat?.blocking) return "⛔ incompatible";
  return "🔄 will merge";
}

function repoOf(a: Assessment, result: ApplyResult | undefined): string {
  const repo = result?.repo ?? a.manifest?.hubmerge.output?.repo;
  if (!repo) return "—";
  return result?.url ? `[${repo}](${result.url})` : `\`${repo}\``;
}

function size(bytes: number | undefined): string {
  return bytes === undefined ? "—" : formatBytes(bytes);
}

/** A source never locked (new manifest, or new to it) has no locked sha: it says so. */
function lockedCell(a: Assessment, ref: string, now: string | null): string {
  const change = a.decision!.sourceChanges[ref];
  if (change) return sha(change[0]);
  const entry = a.lockedSources;
  if (entry === undefined) return "— (not locked yet)";
  return ref in entry ? sha(now) : "— (new source)";
}

function sha(value: string | null | undefined): string {
  if (value === undefined || value === null) return "—";
  return `\`${value.slice(0, 12)}\``;
}
