/** Shared set-up for the bot's tests: configuration, Hub webhook bodies as the Hub sends them,
 * and small waits. Not a test file. */
import { startBot, type Bot } from "../../src/bot/bot.js";
import { resolveBotSettings, type BotConfig, type BotFileSettings } from "../../src/bot/config.js";
import { createLogger } from "../../src/bot/log.js";
import type { BotOctokitOptions } from "../../src/bot/octokit.js";
import type { BotSecrets } from "../../src/bot/secrets.js";
import type { LocalGitHub } from "../support/github/index.js";

export const HF_SECRET = "hf-webhook-secret-3b9f0c2e71d84a55";
export const GITHUB_WEBHOOK_SECRET = "gh-webhook-secret-8c1d2e3f4a5b6c7d";
/** Token-shaped, so that the logger's pattern masking is exercised as well. */
export const GITHUB_TOKEN = "ghp_LocalBotToken0123456789abcdefABCDEF";

/** No write spacing, millisecond retry back-off: GitHub faults cost no test time. */
export const FAST_OCTOKIT = { throttle: { enabled: false }, retry: { retryAfterBaseValue: 1 } };

export function tokenSecrets(overrides: Partial<BotSecrets> = {}): BotSecrets {
  return {
    hfWebhookSecret: HF_SECRET,
    githubWebhookSecret: GITHUB_WEBHOOK_SECRET,
    github: { kind: "token", token: GITHUB_TOKEN },
    ...overrides,
  };
}

export function manifestUsing(models: string[], output: string): string {
  const [base, ...rest] = models;
  const entries = rest.map((m) => `  - model: ${m}\n    parameters: {weight: 0.5}\n`).join("");
  return `merge_method: task_arithmetic\nbase_model: ${base}\nmodels:\n${entries}dtype: bfloat16\nhubmerge:\n  output: {repo: ${output}}\n`;
}

export interface TestBot extends Bot {
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  /** The raw text of every log line. */
  logText(): string;
}

export async function startTestBot(
  github: LocalGitHub,
  settings: BotFileSettings,
  secrets: BotSecrets = tokenSecrets(),
  octokitOptions: Partial<BotOctokitOptions> = FAST_OCTOKIT,
): Promise<TestBot> {
  const config: BotConfig = {
    ...resolveBotSettings(
      { host: "127.0.0.1", port: 0, debounceMs: 20, refreshIntervalSeconds: 0, ...settings },
      { GITHUB_API_URL: github.url },
    ),
    secrets,
  };
  const lines: string[] = [];
  const logger = createLogger({
    write: (line) => void lines.push(line),
    secrets: [secrets.hfWebhookSecret, secrets.githubWebhookSecret ?? "", tokenOf(secrets)],
    level: "debug",
  });
  const bot = await startBot({ config, logger, octokitOptions });
  await bot.ready;
  return Object.assign(bot, {
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    logText: () => lines.join(""),
  });
}

function tokenOf(secrets: BotSecrets): string {
  return secrets.github.kind === "token" ? secrets.github.token : secrets.github.privateKey;
}

/** A `repo.content` webhook body shaped like the Hub's (webhook version 3). */
export function hubWebhookBody(
  model: string,
  newSha: string | null,
  options: {
    ref?: string;
    oldSha?: string | null;
    action?: string;
    scope?: string;
    type?: string;
    hubUrl?: string;
  } = {},
): Record<string, unknown> {
  const hubUrl = options.hubUrl ?? "https://huggingface.co";
  const ref = options.ref ?? "refs/heads/main";
  return {
    event: { action: options.action ?? "update", scope: options.scope ?? "repo.content" },
    repo: {
      type: options.type ?? "model",
      name: model,
      id: "65f0c0ffee0000000000beef",
      private: false,
      url: { web: `${hubUrl}/${model}`, api: `${hubUrl}/api/models/${model}` },
      owner: { id: "65f0c0ffee0000000000cafe" },
      ...(ref === "refs/heads/main" && newSha ? { headSha: newSha } : {}),
    },
    updatedRefs: [{ ref, oldSha: options.oldSha ?? "0".repeat(39) + "1", newSha }],
    webhook: { id: "66aa00000000000000000001", version: 3 },
  };
}

export function postHubWebhook(
  bot: Bot,
  body: unknown,
  options: { secret?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const secret = options.secret === undefined ? HF_SECRET : options.secret;
  return fetch(`${bot.url}/webhook`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(secret === null ? {} : { "x-webhook-secret": secret }),
      ...options.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function sha(n: number): string {
  return n.toString(16).padStart(40, "a");
}
