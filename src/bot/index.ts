/** The Hub bot: Hugging Face webhooks → GitHub `repository_dispatch` (see docs/bot.md). */
export { startBot, type Bot, type StartBotOptions } from "./bot.js";
export {
  DEFAULT_MANIFEST_GLOB,
  loadBotConfig,
  parseBotSettings,
  resolveBotSettings,
  type BotConfig,
  type BotFileSettings,
  type BotSettings,
  type WatchedRepo,
} from "./config.js";
export { readBotSecrets, secretValues, type BotSecrets, type GitHubCredentials } from "./secrets.js";
export { createLogger, silentLogger, type Logger, type LogLevel } from "./log.js";
export { classifyHubWebhook, type HubWebhookDecision } from "./hub-webhook.js";
export { Dispatcher, type Dispatch, type OfferResult } from "./dispatcher.js";
export { SubscriptionIndex } from "./subscriptions.js";
export type { BotOctokitOptions } from "./octokit.js";
