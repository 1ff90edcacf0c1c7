/**
 * The bot's GitHub client class: octokit's `Octokit` (REST methods, pagination, the retry and
 * throttling plugins) with the bot's base URL, logger and retry policy as defaults. Tests pass
 * `overrides` (e.g. `{throttle: {enabled: false}, retry: {retryAfterBaseValue: 1}}`) so that
 * retries and write spacing do not take seconds.
 */
import { Octokit } from "octokit";
import { TOOL } from "../version.js";
import type { Logger } from "./log.js";

export type BotOctokit = InstanceType<typeof Octokit>;
export type BotOctokitOptions = NonNullable<ConstructorParameters<typeof Octokit>[0]>;
export type BotOctokitClass = typeof Octokit;

/** Rate-limited requests are retried this many times after GitHub's Retry-After. */
const RATE_LIMIT_RETRIES = 3;
/** 5xx and other transient failures: octokit's retry plugin waits 1 s, 4 s, 9 s, 16 s. */
const ERROR_RETRIES = 4;

interface RetryRequestOptions {
  method: string;
  url: string;
  request: { retryCount: number };
}

export function createOctokitClass(options: {
  baseUrl: string;
  logger: Logger;
  overrides?: Partial<BotOctokitOptions>;
}): BotOctokitClass {
  const { logger, overrides = {} } = options;
  const onLimit = (kind: string) => (retryAfter: number, request: RetryRequestOptions) => {
    const retry = request.request.retryCount < RATE_LIMIT_RETRIES;
    logger.warn("github.rate_limited", {
      kind,
      method: request.method,
      url: request.url,
      retryAfterSeconds: retryAfter,
      retry,
    });
    return retry;
  };
  const defaults: BotOctokitOptions = {
    ...overrides,
    baseUrl: options.baseUrl,
    userAgent: `${TOOL.name}-bot/${TOOL.version}`,
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => logger.warn("github.client", { message }),
      error: (message: string) => logger.error("github.client", { message }),
    },
    throttle: {
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      ...overrides.throttle,
    },
    retry: { retries: ERROR_RETRIES, ...overrides.retry },
  };
  return Octokit.defaults(defaults) as BotOctokitClass;
}
