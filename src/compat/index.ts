export { assertCompatible, runCheck, type CheckInput } from "./check.js";
export { BLOCKING_KEYS, WARNING_KEYS } from "./config-diff.js";
export { DARE_PAPER } from "./delta-probe.js";
export { lineageFromCards, type CardDataReader } from "./card-lineage.js";
export type { LineageLookup } from "./lineage.js";
export { renderJson, renderMarkdown, renderText } from "./render.js";
export type {
  CompatReport,
  Finding,
  LayoutAction,
  ProbeModelResult,
  ProbeTensorStats,
  Severity,
} from "./report.js";
export {
  DEFAULT_PROBE_OPTIONS,
  DEFAULT_THRESHOLDS,
  parseThresholdOverrides,
  type CompatThresholds,
  type ProbeOptions,
} from "./thresholds.js";
