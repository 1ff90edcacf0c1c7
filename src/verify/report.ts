/**
 * verify's result: every verdict, what was checked, bytes read and time; rendered for a terminal,
 * and, when something did not match, one E_VERIFY error naming the first mismatch and what to
 * suspect.
 */
import { HubmergeError } from "../errors.js";
import { formatBytes } from "../format.js";
import type { Verdict } from "./verdict.js";

export interface VerifyReport {
  /** The repo (`org/name@sha`) or folder verified. */
  target: string;
  mode: "full" | "sample";
  /** Share of the model's bytes merged again (1 in full mode). */
  fraction: number;
  /** The seed of the sample's draw (`--seed-draw` repeats it); undefined in full mode. */
  seedDraw: number | undefined;
  /** The tool versions that made the record and that verified it. */
  tool: { record: string; current: string };
  tensors: { checked: number; total: number; bytes: number; totalBytes: number };
  /** Bytes read from the published files, and from the sources to merge again. */
  bytesRead: { published: number; sources: number };
  seconds: number;
  verdicts: Verdict[];
  ok: boolean;
}

export function renderVerifyReport(report: VerifyReport): string {
  const lines = report.verdicts.map((v) => {
    const where = v.shard ? ` (${v.shard})` : "";
    const what = `${v.ok ? "ok      " : "MISMATCH"} ${v.check.padEnd(10)} ${v.kind.padEnd(6)} ${v.subject}${where}`;
    return v.ok ? what : `${what}\n         expected ${v.expected}\n         actual   ${v.actual}`;
  });
  const { tensors, bytesRead } = report;
  const failed = report.verdicts.filter((v) => !v.ok).length;
  const mode =
    report.mode === "full"
      ? "full: every tensor and shard"
      : `sample of ${(report.fraction * 100).toFixed(1)}% by bytes, drawn with --seed-draw ${report.seedDraw}`;
  lines.push(
    "",
    `verified ${report.target} (${mode})`,
    `re-created ${tensors.checked} of ${tensors.total} tensors (${formatBytes(tensors.bytes)} of ${formatBytes(tensors.totalBytes)})`,
    `read ${formatBytes(bytesRead.published)} of published files and ${formatBytes(bytesRead.sources)} of sources in ${report.seconds.toFixed(1)} s`,
    `record made by ${report.tool.record}, verified with ${report.tool.current}`,
    report.ok
      ? `verdict: MATCH (${report.verdicts.length} checks)`
      : `verdict: MISMATCH (${failed} of ${report.verdicts.length} checks)`,
  );
  return lines.join("\n") + "\n";
}

/** The error for a report with mismatches: the first one, and what to suspect. */
export function verifyFailure(report: VerifyReport): HubmergeError {
  const first = report.verdicts.find((v) => !v.ok)!;
  const name = first.kind === "tensor" ? `tensor ${first.subject}` : first.subject;
  return new HubmergeError(
    "E_VERIFY",
    `${name}: the ${first.check} ${first.kind} does not match the record (expected ${first.expected}, got ${first.actual})`,
    {
      where: { model: report.target, ...(first.kind === "tensor" ? { tensor: first.subject } : {}) },
      hint: suspect(first, report),
    },
  );
}

function suspect(first: Verdict, report: VerifyReport): string {
  if (first.check === "published") {
    return "the published file differs from what the merge recorded: suspect a tampered file (or a later commit that changed it without a new hubmerge.json)";
  }
  if (report.tool.record !== report.tool.current) {
    return `the record was made by ${report.tool.record} and this is ${report.tool.current}: suspect a different tool version; verify with npx ${report.tool.record.replace(" ", "@")} verify …`;
  }
  return "same tool version, same pinned sources, different bytes: suspect a tampered hubmerge.json (or a source revision whose files changed), else report a bug";
}
