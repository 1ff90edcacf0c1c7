import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/bot/log.js";
import { deliverWebhook, pushWebhook, startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import {
  GITHUB_TOKEN,
  GITHUB_WEBHOOK_SECRET,
  HF_SECRET,
  hubWebhookBody,
  manifestUsing,
  postHubWebhook,
  sha,
  startTestBot,
  type TestBot,
} from "./harness.js";

function capture(secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({
    write: (line) => void lines.push(line),
    secrets,
    clock: () => new Date("2026-03-01T12:00:00Z"),
  });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes one JSON object per line with time, level and event first", () => {
    const { logger, lines } = capture();
    logger.info("dispatch.sent", { repo: "acme/merges", n: 3, big: 5n });
    logger.debug("hidden");
    expect(lines).toEqual([
      '{"time":"2026-03-01T12:00:00.000Z","level":"info","event":"dispatch.sent","repo":"acme/merges","n":3,"big":"5"}\n',
    ]);
  });

  it("scrubs configured secrets, secret-named fields, token shapes and error internals", () => {
    const secret = "super-secret-value-123";
    const { logger, parsed } = capture([secret]);
    const error = Object.assign(new Error(`request failed with ${secret}`), {
      status: 502,
      request: { headers: { authorization: "token ghp_abcdefghijklmnopqrstuvwxyz0123" } },
    });
    logger.error("x", {
      note: `value ${secret} inside`,
      token: "anything",
      nested: { privateKey: "k", list: ["ghs_0123456789abcdef0123456789", "hf_abcdefghijklmnopqrstuvwx"] },
      jwt: "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjQyfQ.c2lnbmF0dXJl",
      error,
    });
    const [record] = parsed();
    expect(record).toMatchObject({
      note: "value [redacted] inside",
      token: "[redacted]",
      nested: { privateKey: "[redacted]", list: ["[redacted]", "[redacted]"] },
      jwt: "[redacted]",
      error: { name: "Error", message: "request failed with [redacted]", status: 502 },
    });
    expect(JSON.stringify(record)).not.toContain("ghp_");
  });
});

describe("the bot's logs", () => {
  let github: LocalGitHub;
  let bot: TestBot | undefined;
  afterEach(async () => {
    await bot?.close();
    await github.close();
  });

  it("never contain a secret or a token, through success, rejections and GitHub failures", async () => {
    github = await startLocalGitHub({ tokens: [GITHUB_TOKEN] });
    github.seedRepo("acme/merges", {
      files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/a") },
    });
    bot = await startTestBot(github, { repos: ["acme/merges"] });
    await postHubWebhook(bot, hubWebhookBody("acme/ft", sha(1)));
    await bot.dispatcher.flush();
    await postHubWebhook(bot, hubWebhookBody("acme/ft", sha(2)), { secret: `${HF_SECRET}-wrong` });
    await postHubWebhook(bot, hubWebhookBody("acme/ft", sha(3)), {
      headers: { authorization: `token ${GITHUB_TOKEN}` },
    });
    github.faults.set([{ status: 500 }]);
    await postHubWebhook(bot, hubWebhookBody("acme/ft", sha(4)));
    await bot.dispatcher.flush();
    await deliverWebhook(
      `${bot.url}/github/webhook`,
      pushWebhook(github, "acme/merges", { secret: GITHUB_WEBHOOK_SECRET }),
    );
    await bot.settled();
    github.faults.clear();
    await bot.close();

    const text = bot.logText();
    const events = bot.logs().map((l) => l.event);
    expect(events).toEqual(
      expect.arrayContaining(["dispatch.sent", "hub_webhook.unauthorized", "dispatch.failed"]),
    );
    for (const secret of [HF_SECRET, GITHUB_WEBHOOK_SECRET, GITHUB_TOKEN]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/authorization/i);
  });
});
