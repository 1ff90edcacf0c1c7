/**
 * Secrets come only from the environment (a Space's "secrets"): the Hugging Face webhook
 * secret, GitHub credentials (a token, or a GitHub App's id and private key) and the GitHub
 * webhook secret. They are checked here once and never logged.
 */
import { HubmergeError } from "../errors.js";

export type GitHubCredentials =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: number; privateKey: string; installationId?: number };

export interface BotSecrets {
  hfWebhookSecret: string;
  /** Without it, `/github/webhook` is off and manifests refresh on the schedule only. */
  githubWebhookSecret?: string;
  github: GitHubCredentials;
}

/** Shorter webhook secrets are guessable; the Hub sends them verbatim, so length is all they have. */
export const MIN_SECRET_LENGTH = 16;

function env(vars: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = vars[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function requireStrong(name: string, value: string | undefined): string {
  if (value === undefined) {
    throw new HubmergeError("E_USAGE", `${name} is not set`, {
      hint: `set ${name} to the webhook's secret (generate one with \`openssl rand -hex 32\`)`,
    });
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new HubmergeError("E_USAGE", `${name} is shorter than ${MIN_SECRET_LENGTH} characters`, {
      hint: "use a long random secret, e.g. `openssl rand -hex 32`, in the webhook and here",
    });
  }
  return value;
}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HubmergeError("E_USAGE", `${name} must be a positive integer, got "${text}"`, {
      hint: "copy the number from the GitHub App's settings page",
    });
  }
  return value;
}

/** Secrets stored in one-line variables often carry `\n` escapes instead of newlines. */
function pemFromEnv(text: string): string {
  const pem = text.includes("\n") ? text : text.replace(/\\n/g, "\n");
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new HubmergeError("E_USAGE", "GITHUB_APP_PRIVATE_KEY is not a PEM private key", {
      hint: "paste the whole .pem file the GitHub App settings page generated, BEGIN and END lines included",
    });
  }
  return pem;
}

function readGitHubCredentials(vars: NodeJS.ProcessEnv): GitHubCredentials {
  const token = env(vars, "GITHUB_TOKEN");
  const appId = positiveInt("GITHUB_APP_ID", env(vars, "GITHUB_APP_ID"));
  const key = env(vars, "GITHUB_APP_PRIVATE_KEY");
  if (appId !== undefined || key !== undefined) {
    if (token !== undefined) {
      throw new HubmergeError("E_USAGE", "both GITHUB_TOKEN and a GitHub App are configured", {
        hint: "keep one: GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY (recommended) or GITHUB_TOKEN",
      });
    }
    if (appId === undefined || key === undefined) {
      throw new HubmergeError("E_USAGE", "a GitHub App needs both GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY", {
        hint: "set the missing one from the App's settings page",
      });
    }
    const installationId = positiveInt("GITHUB_APP_INSTALLATION_ID", env(vars, "GITHUB_APP_INSTALLATION_ID"));
    return { kind: "app", appId, privateKey: pemFromEnv(key), ...(installationId ? { installationId } : {}) };
  }
  if (token === undefined) {
    throw new HubmergeError("E_USAGE", "no GitHub credentials", {
      hint: "set GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY, or GITHUB_TOKEN (a fine-grained token with Contents: write)",
    });
  }
  return { kind: "token", token };
}

export function readBotSecrets(vars: NodeJS.ProcessEnv): BotSecrets {
  const githubWebhookSecret = env(vars, "GITHUB_WEBHOOK_SECRET");
  return {
    hfWebhookSecret: requireStrong("HF_WEBHOOK_SECRET", env(vars, "HF_WEBHOOK_SECRET")),
    ...(githubWebhookSecret === undefined
      ? {}
      : { githubWebhookSecret: requireStrong("GITHUB_WEBHOOK_SECRET", githubWebhookSecret) }),
    github: readGitHubCredentials(vars),
  };
}

/** Every secret value, for the logger to scrub (PEM body lines too, in case one leaks alone). */
export function secretValues(secrets: BotSecrets): string[] {
  const values = [secrets.hfWebhookSecret];
  if (secrets.githubWebhookSecret !== undefined) values.push(secrets.githubWebhookSecret);
  if (secrets.github.kind === "token") values.push(secrets.github.token);
  else {
    values.push(secrets.github.privateKey);
    for (const line of secrets.github.privateKey.split("\n"))
      if (line.length >= 16 && !line.startsWith("-----")) values.push(line);
  }
  return values;
}
