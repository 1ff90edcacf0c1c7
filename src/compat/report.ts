/**
 * The compatibility report: one data structure that the terminal, JSON and Markdown renderers
 * print, that `hubmerge merge` consults before reading weights, and that the card can quote.
 */
import type { Pos } from "../manifest/types.js";

export type Severity = "blocking" | "warning" | "info";

/** One thing the check noticed about one model, relative to the reference (usually the base). */
export interface Finding {
  severity: Severity;
  /**
   * Stable identifier for scripts and docs: `config.<key>`, `slices.layer_range`,
   * `layout.missing|extra|shape|dtype`, `lineage.unrelated|unknown`,
   * `probe.unrelated|continued-pretraining|identical|skipped`.
   */
  code: string;
  /** The model as the manifest writes it. */
  model: string;
  /** A config key, when the finding is about one. */
  field?: string;
  /** A tensor name (layers collapsed to `*` when several layers share the finding). */
  tensor?: string;
  /** The reference model's value (for probe findings: the threshold). */
  base: unknown;
  /** This model's value (for probe findings: the measurement). */
  value: unknown;
  /** What is different, in one or two sentences. */
  message: string;
  /** What to do about it. */
  fix: string;
  /** The manifest line of the model's entry. */
  pos?: Pos;
  /** For layout findings: what the merge method will do with the tensor. */
  action?: LayoutAction;
}

/** error: the merge fails; truncate: cut to the base's shape; skip: the model is left out; ignore: no effect. */
export type LayoutAction = "error" | "truncate" | "skip" | "ignore";

/** The delta probe's numbers for one sampled tensor of one model. */
export interface ProbeTensorStats {
  tensor: string;
  /** Which part of the network: `embedding`, `attention`, `mlp` or `other`. */
  kind: string;
  /** Elements compared (finite in both models). */
  elements: number;
  /** cos(θ, θ₀) over the sampled elements. */
  cosine: number;
  /** ‖θ − θ₀‖ / ‖θ₀‖ over the sampled elements. */
  relativeDelta: number;
  maxAbsDelta: number;
  /** 99th percentile of |θ − θ₀|. */
  p99AbsDelta: number;
}

/** The delta probe's result for one model against the reference. */
export interface ProbeModelResult {
  model: string;
  reference: string;
  /** Weight bytes this probe read from the model (range reads, header prefixes included). */
  bytesRead: number;
  tensors: ProbeTensorStats[];
  /** Medians over the sampled tensors; undefined when nothing could be sampled. */
  summary?: { cosine: number; relativeDelta: number; p99AbsDelta: number; maxAbsDelta: number };
}

export interface CompatReport {
  /** The manifest file, for `file:line` positions. */
  manifest: string;
  method: string;
  /** The model every other model is compared with: the base, else the first model. */
  reference: string;
  /** Every model checked, the reference first. */
  models: string[];
  findings: Finding[];
  probe: ProbeModelResult[];
  /** Whether any finding is blocking. */
  blocking: boolean;
}

export const SEVERITY_ORDER: readonly Severity[] = ["blocking", "warning", "info"];

/** Findings ordered by severity, keeping each severity's original order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return SEVERITY_ORDER.flatMap((severity) => findings.filter((f) => f.severity === severity));
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { blocking: 0, warning: 0, info: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}
