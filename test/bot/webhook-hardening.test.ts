/**
 * Issue 13, security 4: GitHub push webhooks replayed, delivered late, unsigned, oversized and
 * flooded. Each case is one that the bot got wrong before: every replay re-read the repository,
 * an old push rolled the index back to its commit, unsigned bodies were read to the end before
 * the 401, and unsigned floods were never rate-limited.
 */
import { connect } from "node:net";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  deliverWebhook,
  pushWebhook,
  signWebhookBody,
  startLocalGitHub,
  type LocalGitHub,
} from "../support/github/index.js";
import { GITHUB_TOKEN, GITHUB_WEBHOOK_SECRET, manifestUsing, startTestBot, type TestBot } from "./harness.js";

const REPO = "acme/merges";
let github: LocalGitHub;
let bot: TestBot | undefined;

beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [GITHUB_TOKEN] });
  github.seedRepo(REPO, { files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/one"], "acme/out") } });
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await github.close();
});

const serve = (settings: Parameters<typeof startTestBot>[1] = {}) =>
  startTestBot(github, { repos: [REPO], ...settings });

/** Requests the bot made to GitHub since `from` (an index into the request log). */
const callsSince = (from: number) => github.requests.length - from;

/**
 * Sends a request's head and the first part of its body over a raw socket, never the rest.
 * Returns the answer's status line (a server that waits for the whole body answers nothing) and
 * whether the server then closed the connection (one that keeps it open would read the rest).
 */
function sendHeadOnly(
  url: string,
  headers: Record<string, string>,
  partial: Buffer,
  path = "/github/webhook",
): Promise<{ status: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: answer.split("\r\n")[0] || "no answer", closed });
    };
    const timer = setTimeout(() => finish(false), 3000);
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    const head = Object.entries({ host: `${hostname}:${port}`, ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    socket.write(partial);
  });
}

it("answers a delivery replayed 20 times with the GitHub API calls of one", async () => {
  bot = await serve();
  github.seedRepo(REPO, {
    files: { "merges/b.yaml": manifestUsing(["acme/base", "acme/two"], "acme/out2") },
  });
  const push = pushWebhook(github, REPO, { secret: GITHUB_WEBHOOK_SECRET });
  const start = github.requests.length;
  expect((await deliverWebhook(`${bot.url}/github/webhook`, push)).status).toBe(202);
  await bot.settled();
  const one = callsSince(start);
  expect(one).toBeGreaterThan(0);
  expect(bot.index.subscribers("acme/two")).toEqual([REPO]);
  for (let i = 1; i < 20; i++) {
    // Half the replays under a fresh delivery id: the id is not covered by the signature.
    const headers = i % 2 === 0 ? push.headers : { ...push.headers, "x-github-delivery": `replay-${i}` };
    const replay = await deliverWebhook(`${bot.url}/github/webhook`, { ...push, headers });
    expect(await replay.json()).toEqual({ status: "ignored", reason: "delivery already handled" });
  }
  await bot.settled();
  expect(callsSince(start)).toBe(one);
});

it("does not roll the index back when an older push arrives after a newer one", async () => {
  bot = await serve();
  github.seedRepo(REPO, { files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/old"], "acme/out") } });
  const older = pushWebhook(github, REPO, { secret: GITHUB_WEBHOOK_SECRET });
  const newSha = github.seedRepo(REPO, {
    files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/new"], "acme/out") },
  });
  const newer = pushWebhook(github, REPO, { secret: GITHUB_WEBHOOK_SECRET });
  expect((await deliverWebhook(`${bot.url}/github/webhook`, newer)).status).toBe(202);
  await bot.settled();
  expect(bot.index.get(REPO)?.ref).toBe(newSha);
  // Delivered late (GitHub does not promise order) or replayed by someone who kept it.
  expect((await deliverWebhook(`${bot.url}/github/webhook`, older)).status).toBe(202);
  await bot.settled();
  expect(bot.index.get(REPO)?.ref).toBe(newSha);
  expect(bot.index.subscribers("acme/new")).toEqual([REPO]);
  expect(bot.index.subscribers("acme/old")).toEqual([]);
});

it("answers an unsigned 24 MiB push with 401 before its body is sent", async () => {
  bot = await serve();
  const answer = await sendHeadOnly(
    `${bot.url}/github/webhook`,
    {
      "content-type": "application/json",
      "x-github-event": "push",
      "content-length": String(24 * 1024 * 1024),
    },
    Buffer.alloc(16 * 1024, 0x20),
  );
  expect(answer).toEqual({ status: "HTTP/1.1 401 Unauthorized", closed: true });
  expect(bot.logs().find((l) => l.event === "github_webhook.unauthorized")).toMatchObject({
    reason: "no signature",
  });
});

it("answers a signed-looking body over the cap with 413 without reading to its end", async () => {
  bot = await serve({ maxGitHubBodyBytes: 64 * 1024 });
  const signature = signWebhookBody("not-the-secret", "x");
  const declared = await sendHeadOnly(
    `${bot.url}/github/webhook`,
    { "x-hub-signature-256": signature, "x-github-event": "push", "content-length": String(512 * 1024) },
    Buffer.alloc(1024, 0x20),
  );
  expect(declared).toEqual({ status: "HTTP/1.1 413 Payload Too Large", closed: true });
  // Chunked, so no length is declared: reading stops as soon as the cap is passed.
  const chunk = Buffer.alloc(96 * 1024, 0x20);
  const chunked = await sendHeadOnly(
    `${bot.url}/github/webhook`,
    { "x-hub-signature-256": signature, "x-github-event": "push", "transfer-encoding": "chunked" },
    Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]),
  );
  expect(chunked).toEqual({ status: "HTTP/1.1 413 Payload Too Large", closed: true });
});

it("closes the connection on a Hub webhook without the secret instead of reading its body", async () => {
  bot = await serve();
  const answer = await sendHeadOnly(
    bot.url,
    { "content-type": "application/json", "content-length": String(24 * 1024 * 1024) },
    Buffer.alloc(16 * 1024, 0x20),
    "/webhook",
  );
  expect(answer).toEqual({ status: "HTTP/1.1 401 Unauthorized", closed: true });
});

it("rate-limits an unsigned flood by sender with 429", async () => {
  bot = await serve({ rateLimit: { perMinute: 6, burst: 5 } });
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const response = await fetch(`${bot.url}/github/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push" },
      body: "{}",
    });
    statuses.push(response.status);
    if (response.status === 429) expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  }
  expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
  await bot.settled();
  expect(github.requests.filter((r) => r.path.includes("/git/trees/"))).toHaveLength(1); // the start only
});
