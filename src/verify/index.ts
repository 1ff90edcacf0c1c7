/** `hubmerge verify`: what the pipeline needs from this folder (docs/verify.md). */
export { countingSource, type ByteCounter } from "./counting-source.js";
export { readRecordFrom } from "./read-record.js";
export { recordPinnedResolver } from "./recreate.js";
export { renderVerifyReport, verifyFailure, type VerifyReport } from "./report.js";
export { DEFAULT_SAMPLE_FRACTION, drawSample, drawKey } from "./sample.js";
export type { Verdict } from "./verdict.js";
export { verifyPlanned } from "./verify-planned.js";
