/**
 * The bot's settings: a YAML (or JSON) file for what is not secret, the environment for
 * secrets and for the few values a Space sets as variables (port, repositories, API URL).
 * The file schema is strict so that a secret pasted into it is refused, not silently used.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { HubmergeError } from "../errors.js";
import { readBotSecrets, type BotSecrets } from "./secrets.js";

export const DEFAULT_MANIFEST_GLOB = "merges/**/*.yaml";

export interface WatchedRepo {
  /** `owner/name` as configured. */
  repo: string;
  /** Globs of manifest paths in that repository. */
  manifests: string[];
}

export interface BotSettings {
  repos: WatchedRepo[];
  host: string;
  port: number;
  /** GitHub's REST base URL, no trailing slash (GHES: `https://host/api/v3`). */
  githubApiUrl: string;
  /** How often every repository's manifests are re-read; 0 turns the schedule off. */
  refreshIntervalMs: number;
  /** Quiet time after the last webhook for a (repository, model) before dispatching. */
  debounceMs: number;
  /** Webhook requests allowed per sender: a bucket of `burst` refilled at `perMinute`. */
  rateLimit: { perMinute: number; burst: number };
  /** Largest Hugging Face webhook body accepted (they are a few KB). */
  maxBodyBytes: number;
  /** Largest GitHub webhook body accepted (GitHub caps its own at 25 MB). */
  maxGitHubBodyBytes: number;
  /** How many dispatched (repository, model, sha) triples are remembered to refuse replays. */
  recentShaCapacity: number;
  /** Take the sender's address from the last `X-Forwarded-For` hop (behind the Spaces proxy). */
  trustProxy: boolean;
  /** Longest wait for running requests and dispatches on shutdown (`docker stop` allows 10 s). */
  shutdownTimeoutMs: number;
}

export interface BotConfig extends BotSettings {
  secrets: BotSecrets;
}

const REPO_NAME = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'expected a GitHub repository "owner/name"');
const GLOBS = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const FILE_SCHEMA = z.strictObject({
  repos: z
    .array(z.union([REPO_NAME, z.strictObject({ repo: REPO_NAME, manifests: GLOBS.optional() })]))
    .optional(),
  manifests: GLOBS.optional(),
  host: z.string().min(1).optional(),
  port: z.int().min(0).max(65535).optional(),
  githubApiUrl: z.url().optional(),
  refreshIntervalSeconds: z.number().min(0).optional(),
  debounceMs: z.int().min(0).optional(),
  rateLimit: z
    .strictObject({ perMinute: z.number().positive(), burst: z.int().min(1).optional() })
    .optional(),
  maxBodyBytes: z.int().min(1024).optional(),
  maxGitHubBodyBytes: z.int().min(1024).optional(),
  recentShaCapacity: z.int().min(1).optional(),
  trustProxy: z.boolean().optional(),
  shutdownTimeoutSeconds: z.number().min(0).optional(),
});

export type BotFileSettings = z.infer<typeof FILE_SCHEMA>;

const asList = (globs: string | string[] | undefined): string[] | undefined =>
  globs === undefined ? undefined : typeof globs === "string" ? [globs] : globs;

/** Checks a parsed settings file; `file` names it in errors. */
export function parseBotSettings(value: unknown, file: string): BotFileSettings {
  const result = FILE_SCHEMA.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = issue.path.join(".") || "(top level)";
  throw new HubmergeError("E_USAGE", `bot settings ${file}: ${at}: ${issue.message}`, {
    where: { file },
    hint:
      issue.code === "unrecognized_keys"
        ? "secrets never go in the file: set HF_WEBHOOK_SECRET, GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET in the environment (see docs/bot.md)"
        : "see docs/bot.md for the settings file",
  });
}

function envRepos(env: NodeJS.ProcessEnv): string[] {
  const text = env["HUBMERGE_BOT_REPOS"] ?? "";
  const names = text.split(/[\s,]+/).filter(Boolean);
  for (const name of names) {
    if (!REPO_NAME.safeParse(name).success) {
      throw new HubmergeError("E_USAGE", `HUBMERGE_BOT_REPOS: "${name}" is not "owner/name"`, {
        hint: "list repositories separated by commas or spaces, e.g. acme/merges,acme/more-merges",
      });
    }
  }
  return names;
}

function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const text = env["PORT"];
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new HubmergeError("E_USAGE", `PORT=${text} is not a port number`, { hint: "use 0 to 65535" });
  }
  return port;
}

function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === "") return undefined;
  if (["1", "true", "yes"].includes(text)) return true;
  if (["0", "false", "no"].includes(text)) return false;
  throw new HubmergeError("E_USAGE", `${name}=${env[name]} is not a yes/no value`, {
    hint: "use true or false",
  });
}

/** File settings plus environment overrides, with defaults filled in. */
export function resolveBotSettings(file: BotFileSettings, env: NodeJS.ProcessEnv): BotSettings {
  const defaultGlobs = asList(file.manifests) ?? [DEFAULT_MANIFEST_GLOB];
  const byName = new Map<string, WatchedRepo>();
  for (const entry of file.repos ?? []) {
    const repo = typeof entry === "string" ? { repo: entry } : entry;
    byName.set(repo.repo.toLowerCase(), {
      repo: repo.repo,
      manifests: asList(repo.manifests) ?? defaultGlobs,
    });
  }
  for (const name of envRepos(env)) {
    if (!byName.has(name.toLowerCase()))
      byName.set(name.toLowerCase(), { repo: name, manifests: defaultGlobs });
  }
  if (byName.size === 0) {
    throw new HubmergeError("E_USAGE", "the bot serves no repositories", {
      hint: "list them under `repos:` in the settings file or in HUBMERGE_BOT_REPOS",
    });
  }
  const perMinute = file.rateLimit?.perMinute ?? 60;
  return {
    repos: [...byName.values()],
    host: file.host ?? "0.0.0.0",
    port: envPort(env) ?? file.port ?? 7860,
    githubApiUrl: (env["GITHUB_API_URL"] || file.githubApiUrl || "https://api.github.com").replace(
      /\/+$/,
      "",
    ),
    refreshIntervalMs: (file.refreshIntervalSeconds ?? 3600) * 1000,
    debounceMs: file.debounceMs ?? 10_000,
    rateLimit: { perMinute, burst: file.rateLimit?.burst ?? Math.max(1, Math.ceil(perMinute / 2)) },
    maxBodyBytes: file.maxBodyBytes ?? 64 * 1024,
    maxGitHubBodyBytes: file.maxGitHubBodyBytes ?? 25 * 1024 * 1024,
    recentShaCapacity: file.recentShaCapacity ?? 10_000,
    trustProxy: envFlag(env, "HUBMERGE_BOT_TRUST_PROXY") ?? file.trustProxy ?? false,
    shutdownTimeoutMs: (file.shutdownTimeoutSeconds ?? 8) * 1000,
  };
}

async function readSettingsFile(file: string): Promise<BotFileSettings> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new HubmergeError("E_USAGE", `cannot read bot settings ${file}: ${(error as Error).message}`, {
      where: { file },
      hint: "pass an existing YAML file with --config, or configure the bot through the environment",
    });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new HubmergeError(
      "E_USAGE",
      `bot settings ${file} is not valid YAML: ${(error as Error).message}`,
      {
        where: { file },
      },
    );
  }
  return parseBotSettings(value, file);
}

/** Reads the settings file (if any) and the environment into a complete configuration. */
export async function loadBotConfig(options: { file?: string; env: NodeJS.ProcessEnv }): Promise<BotConfig> {
  const fileSettings = options.file === undefined ? {} : await readSettingsFile(options.file);
  return { ...resolveBotSettings(fileSettings, options.env), secrets: readBotSecrets(options.env) };
}
