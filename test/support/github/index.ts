/** A local GitHub REST API for tests, plus GitHub event and webhook builders. */
export { startLocalGitHub, type LocalGitHub, type LocalGitHubOptions } from "./server.js";
export type { FileChanges, SeedRepoOptions } from "./admin.js";
export type { AppConfig, TokenSpec } from "./credentials.js";
export type { FaultStatus, GitHubFault, GitHubFaults, RequestRecord } from "./faults.js";
export type { CommentRecord, CommitSummary, PullRecord, SeedFiles, UserRecord } from "./repo-state.js";
export type { DispatchRecord } from "./state.js";
export { createAppKeyPair, signAppJwt } from "./app-jwt.js";
export {
  pullRequestEvent,
  pushEvent,
  repositoryDispatchEvent,
  repositoryPayload,
  scheduleEvent,
  workflowDispatchEvent,
  writeActionEvent,
  type ActionEvent,
  type ActionEventName,
  type PushCommit,
} from "./events.js";
export {
  deliverWebhook,
  pushEventFromRepo,
  pushWebhook,
  signWebhook,
  signWebhookBody,
  type SignedWebhook,
} from "./webhooks.js";
