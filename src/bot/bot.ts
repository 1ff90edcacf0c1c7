/**
 * The Hub bot, assembled: Hugging Face webhooks in, `repository_dispatch` out, with the
 * subscription index deciding who cares about which model. `startBot` listens at once (health
 * checks pass while the index loads); Hub webhooks wait for the first index build.
 */
import { SOURCE_UPDATED_EVENT } from "../dispatch-event.js";
import type { BotConfig } from "./config.js";
import { Dispatcher, type Dispatch } from "./dispatcher.js";
import { createGitHubAccess, splitRepo, type GitHubAccess } from "./github-access.js";
import { createGitHubEndpoint } from "./github-endpoint.js";
import { createHubEndpoint } from "./hub-endpoint.js";
import { createLogger, type Logger } from "./log.js";
import { createOctokitClass, type BotOctokitOptions } from "./octokit.js";
import { RateLimiter } from "./rate-limiter.js";
import { IndexRefresher } from "./refresher.js";
import { secretValues } from "./secrets.js";
import { startServer, withTimeout, type BotServer, type ServerRoutes } from "./server.js";
import { SubscriptionIndex } from "./subscriptions.js";

export interface StartBotOptions {
  config: BotConfig;
  /** Default: JSON lines on stdout, secrets scrubbed. */
  logger?: Logger;
  /** Merged into every GitHub client's options (tests: `{throttle: {enabled: false}, retry: {retryAfterBaseValue: 1}}`). */
  octokitOptions?: Partial<BotOctokitOptions>;
}

export interface Bot {
  /** `http://host:port` the bot listens on. */
  readonly url: string;
  readonly port: number;
  readonly index: SubscriptionIndex;
  readonly dispatcher: Dispatcher;
  readonly refresher: IndexRefresher;
  /** Resolves once the first index build finished. */
  readonly ready: Promise<void>;
  /** Waits until no index refresh is running (tests). */
  settled(): Promise<void>;
  /** Graceful stop: refuse new requests, finish running ones, flush debounced dispatches, close. */
  close(): Promise<void>;
}

export function dispatchSender(access: GitHubAccess) {
  return async ({ repo, model, sha }: Dispatch): Promise<void> => {
    const client = await access.clientFor(repo);
    await client.rest.repos.createDispatchEvent({
      ...splitRepo(repo),
      event_type: SOURCE_UPDATED_EVENT,
      client_payload: { model, sha },
    });
  };
}

/** The parts that hold state, wired to each other but not yet to a socket. */
interface BotParts {
  config: BotConfig;
  logger: Logger;
  access: GitHubAccess;
  index: SubscriptionIndex;
  refresher: IndexRefresher;
  dispatcher: Dispatcher;
}

function assemble(options: StartBotOptions): BotParts {
  const { config } = options;
  const logger = options.logger ?? createLogger({ secrets: secretValues(config.secrets) });
  const Octokit = createOctokitClass({
    baseUrl: config.githubApiUrl,
    logger,
    overrides: options.octokitOptions,
  });
  const access = createGitHubAccess(config.secrets.github, Octokit);
  const index = new SubscriptionIndex();
  const dispatcher = new Dispatcher({
    send: dispatchSender(access),
    debounceMs: config.debounceMs,
    recentCapacity: config.recentShaCapacity,
    logger,
  });
  const refresher = new IndexRefresher(index, access, config.repos, logger);
  return { config, logger, access, index, refresher, dispatcher };
}

type BotState = "starting" | "ok" | "stopping";

function routes(parts: BotParts, ready: Promise<void>, state: () => BotState): ServerRoutes {
  const { config, logger, index, dispatcher, refresher } = parts;
  const startedAt = Date.now();
  const hubEndpoint = createHubEndpoint({
    secret: config.secrets.hfWebhookSecret,
    maxBodyBytes: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    limiter: new RateLimiter(config.rateLimit),
    index,
    indexReady: ready,
    dispatcher,
    logger,
  });
  return {
    hubWebhook: hubEndpoint,
    githubWebhook: createGitHubEndpoint({
      secret: config.secrets.githubWebhookSecret,
      maxBodyBytes: config.maxGitHubBodyBytes,
      refresher,
      logger,
    }),
    health: () => ({
      status: state(),
      repos: config.repos.length,
      indexed: index.stats(),
      pendingDispatches: dispatcher.pendingCount,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  };
}

/** Stop in order, each step bounded by what is left of the shutdown time. */
async function shutdown(parts: BotParts, server: BotServer): Promise<void> {
  const { logger, dispatcher, refresher, config } = parts;
  logger.info("bot.stopping", { pendingDispatches: dispatcher.pendingCount });
  refresher.close();
  const deadline = Date.now() + config.shutdownTimeoutMs;
  const left = () => Math.max(0, deadline - Date.now());
  await server.drain(left());
  const flushed = await withTimeout(dispatcher.close(), left());
  if (!flushed) logger.warn("bot.flush_timeout", { pendingDispatches: dispatcher.pendingCount });
  await server.close();
  logger.info("bot.stopped", {});
}

export async function startBot(options: StartBotOptions): Promise<Bot> {
  const parts = assemble(options);
  const { config, logger, index, dispatcher, refresher } = parts;
  let state: BotState = "starting";
  const ready = refresher.refreshAll();
  void ready.then(() => {
    if (state === "starting") state = "ok";
  });
  const server = await startServer({
    host: config.host,
    port: config.port,
    logger,
    routes: routes(parts, ready, () => state),
  });
  refresher.start(config.refreshIntervalMs);
  logger.info("bot.started", {
    url: server.url,
    repos: config.repos.map((r) => r.repo),
    githubApiUrl: config.githubApiUrl,
    githubAuth: parts.access.kind,
    githubWebhooks: config.secrets.githubWebhookSecret !== undefined,
  });
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    index,
    dispatcher,
    refresher,
    ready,
    settled: () => refresher.idle(),
    close: () => {
      state = "stopping";
      return (closing ??= shutdown(parts, server));
    },
  };
}
