/** The local Hugging Face Hub server: tests, the demo's embedded default, offline use. */
export { startLocalHub, type LocalHub, type LocalHubOptions } from "./server.js";
export { LocalHubAdmin, type AdminCommitOptions, type AdminFiles, type AdminRepoOptions } from "./admin.js";
export type { FaultCounts, FaultKind, FaultMatch, FaultRequest, FaultRule, FaultInjector } from "./faults.js";
export type { RequestLog, RequestRecord } from "./request-log.js";
export type { TokenSpec } from "./types.js";
export { HubError, type HubErrorCode } from "./hub-error.js";
export { LinkPacer, TokenBucket, type LinkPacing } from "./pacing.js";
export type { CdnOptions, CdnRequestRecord, LocalCdn } from "./cdn.js";
