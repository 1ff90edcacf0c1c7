import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBotConfig, parseBotSettings, resolveBotSettings } from "../../src/bot/config.js";
import { isHubmergeError } from "../../src/errors.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const SECRET_ENV = { HF_WEBHOOK_SECRET: "0123456789abcdef0123", GITHUB_TOKEN: "ghp_x" };

describe("bot settings", () => {
  it("fills defaults and lets a repository override the manifest globs", () => {
    const settings = resolveBotSettings(
      parseBotSettings({ repos: ["acme/merges", { repo: "acme/other", manifests: "m/*.yml" }] }, "bot.yaml"),
      {},
    );
    expect(settings).toMatchObject({
      repos: [
        { repo: "acme/merges", manifests: ["merges/**/*.yaml"] },
        { repo: "acme/other", manifests: ["m/*.yml"] },
      ],
      host: "0.0.0.0",
      port: 7860,
      githubApiUrl: "https://api.github.com",
      refreshIntervalMs: 3_600_000,
      rateLimit: { perMinute: 60, burst: 30 },
      trustProxy: false,
    });
  });

  it("takes PORT, HUBMERGE_BOT_REPOS, GITHUB_API_URL and HUBMERGE_BOT_TRUST_PROXY from the environment", () => {
    const settings = resolveBotSettings(
      parseBotSettings({ repos: ["acme/merges"], port: 9000 }, "bot.yaml"),
      {
        PORT: "8080",
        HUBMERGE_BOT_REPOS: "acme/merges, acme/more",
        GITHUB_API_URL: "https://ghe.example/api/v3/",
      },
    );
    expect(settings.port).toBe(8080);
    expect(settings.repos.map((r) => r.repo)).toEqual(["acme/merges", "acme/more"]);
    expect(settings.githubApiUrl).toBe("https://ghe.example/api/v3");
  });

  it("refuses unknown keys (a pasted secret), bad names and an empty repository list", () => {
    const refused = (run: () => unknown, pattern: RegExp) => {
      try {
        run();
      } catch (error) {
        expect(isHubmergeError(error, "E_USAGE")).toBe(true);
        expect((error as Error).message + String((error as { hint?: string }).hint)).toMatch(pattern);
        return;
      }
      throw new Error("expected a refusal");
    };
    refused(
      () => parseBotSettings({ repos: ["a/b"], githubToken: "x" }, "bot.yaml"),
      /secrets never go in the file/,
    );
    refused(() => parseBotSettings({ repos: ["not a repo"] }, "bot.yaml"), /repos\.0/);
    refused(() => resolveBotSettings({}, {}), /serves no repositories/);
    refused(() => resolveBotSettings({}, { HUBMERGE_BOT_REPOS: "bad" }), /HUBMERGE_BOT_REPOS/);
  });

  it("loads a YAML file and the secrets from the environment", async () => {
    const file = join(await tempDir(), "bot.yaml");
    await writeFile(file, "repos:\n  - acme/merges\ndebounceMs: 500\n");
    const config = await loadBotConfig({ file, env: SECRET_ENV });
    expect(config.debounceMs).toBe(500);
    expect(config.secrets).toEqual({
      hfWebhookSecret: SECRET_ENV.HF_WEBHOOK_SECRET,
      github: { kind: "token", token: "ghp_x" },
    });
    await expect(loadBotConfig({ file: join(file, "..", "missing.yaml"), env: SECRET_ENV })).rejects.toThrow(
      /cannot read/,
    );
  });
});

describe("bot secrets", () => {
  const load = (env: NodeJS.ProcessEnv) => loadBotConfig({ env: { HUBMERGE_BOT_REPOS: "acme/m", ...env } });

  it("reads a GitHub App, turning escaped newlines of a one-line key into real ones", async () => {
    const key = "-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAK\\n-----END RSA PRIVATE KEY-----\\n";
    const config = await load({
      HF_WEBHOOK_SECRET: "0123456789abcdef",
      GITHUB_WEBHOOK_SECRET: "fedcba9876543210",
      GITHUB_APP_ID: "12",
      GITHUB_APP_PRIVATE_KEY: key,
      GITHUB_APP_INSTALLATION_ID: "34",
    });
    expect(config.secrets.github).toEqual({
      kind: "app",
      appId: 12,
      installationId: 34,
      privateKey: "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n",
    });
    expect(config.secrets.githubWebhookSecret).toBe("fedcba9876543210");
  });

  it("refuses missing, short or conflicting secrets with a hint", async () => {
    await expect(load({ GITHUB_TOKEN: "t" })).rejects.toThrow(/HF_WEBHOOK_SECRET is not set/);
    await expect(load({ HF_WEBHOOK_SECRET: "short", GITHUB_TOKEN: "t" })).rejects.toThrow(/shorter than 16/);
    await expect(load({ HF_WEBHOOK_SECRET: "0123456789abcdef" })).rejects.toThrow(/no GitHub credentials/);
    await expect(
      load({ HF_WEBHOOK_SECRET: "0123456789abcdef", GITHUB_TOKEN: "t", GITHUB_APP_ID: "1" }),
    ).rejects.toThrow(/both GITHUB_TOKEN and a GitHub App/);
    await expect(load({ HF_WEBHOOK_SECRET: "0123456789abcdef", GITHUB_APP_ID: "1" })).rejects.toThrow(
      /needs both/,
    );
    await expect(
      load({ HF_WEBHOOK_SECRET: "0123456789abcdef", GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: "nope" }),
    ).rejects.toThrow(/not a PEM private key/);
  });
});
