/**
 * One report, three faces: a terminal table, JSON (`--json`, for scripts), and Markdown (the
 * Action's job summary, a PR comment, the model card). Every finding shows the model, its
 * manifest line, the field or tensor, both values, what is wrong and what to do.
 */
import { countBySeverity, sortFindings, type CompatReport, type Finding, type Severity } from "./report.js";

/** Table cells longer than this are cut with an ellipsis (the full text is in the notes below). */
const CELL_WIDTH = 44;

/** JSON with a stable shape: every finding has every key (null when it does not apply). */
export function renderJson(report: CompatReport): string {
  const findings = report.findings.map((f) => ({
    severity: f.severity,
    code: f.code,
    model: f.model,
    field: f.field,
    tensor: f.tensor,
    base: f.base,
    value: f.value,
    action: f.action,
    message: f.message,
    fix: f.fix,
    pos: f.pos,
  }));
  const probe = report.probe.map((p) => ({ ...p, summary: p.summary }));
  // undefined → null keeps the keys; ±Infinity and NaN become null as JSON requires.
  const replacer = (_key: string, value: unknown) => (value === undefined ? null : value);
  return JSON.stringify({ ...report, findings, probe }, replacer, 2) + "\n";
}

export function renderText(report: CompatReport): string {
  const findings = sortFindings(report.findings);
  const out = [
    `${report.manifest}: ${report.method}, reference ${report.reference}, ${report.models.length} model(s)`,
  ];
  if (findings.length > 0) {
    out.push("");
    const rows = findings.map((f, i) => [
      String(i + 1),
      f.severity,
      lineOf(f),
      f.model,
      subjectOf(f),
      formatValue(f.base),
      formatValue(f.value),
    ]);
    out.push(...table(["#", "SEVERITY", "LINE", "MODEL", "FIELD / TENSOR", "REFERENCE", "THIS MODEL"], rows));
    out.push("");
    findings.forEach((f, i) => {
      out.push(`${i + 1}. [${f.code}] ${f.message}${f.action ? ` (${f.action})` : ""}`);
      out.push(`   fix: ${f.fix}`);
    });
  }
  if (report.probe.length > 0) {
    out.push("", `delta probe against ${report.reference} (medians over the sampled tensors):`);
    out.push(...table(PROBE_HEADER, probeRows(report)));
  }
  out.push("", verdict(report));
  return out.join("\n") + "\n";
}

export function renderMarkdown(report: CompatReport): string {
  const findings = sortFindings(report.findings);
  const out = [
    `### Backbone compatibility: ${report.blocking ? "⛔ blocking" : "✅ compatible"}`,
    "",
    `\`${md(report.manifest)}\` · method \`${report.method}\` · reference \`${md(report.reference)}\` · ${report.models.length} model(s)`,
    "",
  ];
  if (findings.length > 0) {
    out.push("| | Model | Line | Field / tensor | Reference | This model | Finding | What to do |");
    out.push("|---|---|---|---|---|---|---|---|");
    for (const f of findings) {
      const cells = [
        `${ICON[f.severity]} ${f.severity}`,
        `\`${md(f.model)}\``,
        lineOf(f),
        f.field || f.tensor ? `\`${md(subjectOf(f))}\`` : "",
        md(formatValue(f.base)),
        md(formatValue(f.value)),
        md(f.message + (f.action ? ` (${f.action})` : "")),
        md(f.fix),
      ];
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  if (report.probe.length > 0) {
    out.push("<details><summary>Delta probe (medians over the sampled tensors)</summary>", "");
    out.push(`| ${PROBE_HEADER.map(md).join(" | ")} |`, `|${PROBE_HEADER.map(() => "---").join("|")}|`);
    for (const row of probeRows(report)) out.push(`| ${row.map(md).join(" | ")} |`);
    out.push("", "</details>", "");
  }
  out.push(verdict(report));
  return out.join("\n") + "\n";
}

const ICON: Record<Severity, string> = { blocking: "⛔", warning: "⚠️", info: "ℹ️" };

const PROBE_HEADER = ["MODEL", "TENSORS", "COSINE", "‖δ‖/‖θ₀‖", "P99 |δ|", "MAX |δ|", "READ"];

function probeRows(report: CompatReport): string[][] {
  return report.probe.map((p) => [
    p.model,
    String(p.tensors.length),
    p.summary ? p.summary.cosine.toFixed(4) : "—",
    p.summary ? p.summary.relativeDelta.toFixed(3) : "—",
    p.summary ? formatNumber(p.summary.p99AbsDelta) : "—",
    p.summary ? formatNumber(p.summary.maxAbsDelta) : "—",
    formatKiB(p.bytesRead),
  ]);
}

function verdict(report: CompatReport): string {
  const counts = countBySeverity(report.findings);
  const tally = `${counts.blocking} blocking, ${counts.warning} warning(s), ${counts.info} info`;
  if (!report.blocking) return `compatible: ${tally}`;
  return (
    `BLOCKING: ${tally}. hubmerge merge refuses these models; fix the blocking findings, ` +
    "or set hubmerge.allow_incompatible: true (or pass --allow-incompatible) to merge anyway"
  );
}

function lineOf(f: Finding): string {
  return f.pos ? String(f.pos.line) : "";
}

function subjectOf(f: Finding): string {
  return f.field ?? f.tensor ?? "";
}

/** A compact text for any finding value: numbers to 4 significant digits, objects as `k v, ...`. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value))
    return value.every((v) => typeof v === "string") ? value.join(" → ") : JSON.stringify(value);
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(", ");
  }
  return String(value);
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e-3 ? String(Number(x.toPrecision(4))) : x.toExponential(2);
}

function formatKiB(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Left-aligned columns separated by two spaces; long cells cut. */
function table(header: string[], rows: string[][]): string[] {
  const cut = (s: string) => (s.length > CELL_WIDTH ? s.slice(0, CELL_WIDTH - 1) + "…" : s);
  const all = [header, ...rows.map((row) => row.map(cut))];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? "").length)));
  return all.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
}

/** Markdown table cell text: no pipes or line breaks. */
function md(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
