import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAppKeyPair, startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import {
  GITHUB_WEBHOOK_SECRET,
  HF_SECRET,
  hubWebhookBody,
  manifestUsing,
  postHubWebhook,
  sha,
  startTestBot,
  type TestBot,
} from "./harness.js";

const APP_ID = 4242;
let keys: { privateKeyPem: string; publicKeyPem: string };
let github: LocalGitHub | undefined;
let bot: TestBot | undefined;

beforeAll(() => {
  keys = createAppKeyPair(1024);
});

afterEach(async () => {
  await bot?.close();
  await github?.close();
  bot = undefined;
  github = undefined;
});

async function appGitHub(): Promise<LocalGitHub> {
  const server = await startLocalGitHub({
    app: { id: APP_ID, publicKeyPem: keys.publicKeyPem },
    installations: { "acme/merges": 77, "acme/other": 78 },
  });
  server.seedRepo("acme/merges", {
    files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/a") },
  });
  server.seedRepo("acme/other", {
    files: { "merges/b.yaml": manifestUsing(["acme/base", "acme/chat"], "acme/b") },
  });
  return server;
}

const appSecrets = (installationId?: number) => ({
  hfWebhookSecret: HF_SECRET,
  githubWebhookSecret: GITHUB_WEBHOOK_SECRET,
  github: {
    kind: "app" as const,
    appId: APP_ID,
    privateKey: keys.privateKeyPem,
    ...(installationId ? { installationId } : {}),
  },
});

describe("GitHub App authentication", () => {
  it("finds each repository's installation, mints installation tokens and dispatches as the app", async () => {
    github = await appGitHub();
    bot = await startTestBot(github, { repos: ["acme/merges", "acme/other"] }, appSecrets());
    expect(bot.index.subscribers("acme/base")).toEqual(["acme/merges", "acme/other"]);
    expect((await postHubWebhook(bot, hubWebhookBody("acme/base", sha(9)))).status).toBe(202);
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => [d.repo, d.sender]).sort()).toEqual([
      ["acme/merges", "hubmerge-local[bot]"],
      ["acme/other", "hubmerge-local[bot]"],
    ]);
    const paths = github.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain("GET /repos/acme/merges/installation");
    expect(paths).toContain("POST /app/installations/77/access_tokens");
    expect(paths).toContain("POST /app/installations/78/access_tokens");
    // One token per installation, reused for the index and for dispatches.
    expect(paths.filter((p) => p.endsWith("/access_tokens"))).toHaveLength(2);
    expect(bot.logText()).not.toMatch(/ghs_|BEGIN RSA|eyJ/);
  });

  it("uses a configured installation id without looking it up, and logs a repository the app cannot reach", async () => {
    github = await appGitHub();
    github.seedRepo("acme/elsewhere", {
      files: { "merges/c.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/c") },
      private: true,
    });
    bot = await startTestBot(github, { repos: ["acme/merges", "acme/elsewhere"] }, appSecrets(77));
    expect(github.requests.some((r) => r.path.endsWith("/installation"))).toBe(false);
    expect(bot.index.get("acme/merges")?.models).toEqual(["acme/base", "acme/ft"]);
    expect(bot.index.get("acme/elsewhere")).toBeUndefined();
    expect(bot.logs().find((l) => l.event === "index.refresh_failed")).toMatchObject({
      repo: "acme/elsewhere",
    });
  });

  it("says the app is not installed when the lookup finds no installation", async () => {
    github = await appGitHub();
    github.seedRepo("acme/elsewhere", {
      files: { "merges/c.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/c") },
    });
    bot = await startTestBot(github, { repos: ["acme/elsewhere"] }, appSecrets());
    const failure = bot.logs().find((l) => l.event === "index.refresh_failed") as {
      error?: { message?: string };
    };
    expect(failure.error?.message).toMatch(/GitHub App 4242 is not installed on acme\/elsewhere/);
  });
});
