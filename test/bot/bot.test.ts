import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  deliverWebhook,
  pushWebhook,
  signWebhook,
  startLocalGitHub,
  type LocalGitHub,
} from "../support/github/index.js";
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

const DISPATCH = "hubmerge-source-updated";

let github: LocalGitHub;
let bot: TestBot | undefined;

beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [GITHUB_TOKEN] });
  github.seedRepo("acme/merges", {
    files: {
      "merges/math.yaml": manifestUsing(["acme/base", "acme/math", "acme/code"], "acme/math-code"),
      "merges/nested/pinned.yaml": manifestUsing(["acme/base", "acme/pinned@1234567"], "acme/pinned-out"),
      "README.md": "uses acme/ignored-in-readme\n",
    },
  });
  github.seedRepo("acme/other", {
    files: { "merges/chat.yaml": manifestUsing(["acme/base", "acme/chat"], "acme/chat-out") },
  });
  github.seedRepo("acme/unserved", {
    files: { "merges/x.yaml": manifestUsing(["acme/base", "acme/math"], "acme/x") },
  });
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await github.close();
});

const serve = (settings: Parameters<typeof startTestBot>[1] = {}) =>
  startTestBot(github, { repos: ["acme/merges", "acme/other"], ...settings });

describe("the Hub webhook endpoint", () => {
  it("builds the index from each repository's manifests", async () => {
    bot = await serve();
    expect(bot.index.get("acme/merges")?.models).toEqual(["acme/base", "acme/code", "acme/math"]);
    expect(bot.index.get("acme/other")?.models).toEqual(["acme/base", "acme/chat"]);
    expect(bot.index.subscribers("ACME/Base")).toEqual(["acme/merges", "acme/other"]);
    expect(bot.index.subscribers("acme/pinned")).toEqual([]); // pinned: main moving changes nothing
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", repos: 2, indexed: { repos: 2, models: 4 } });
  });

  it("dispatches a watched model's new main commit to exactly the subscribing repositories", async () => {
    bot = await serve();
    const base = await postHubWebhook(bot, hubWebhookBody("acme/base", sha(1)));
    expect(base.status).toBe(202);
    expect(await base.json()).toMatchObject({ status: "accepted", scheduled: ["acme/merges", "acme/other"] });
    const math = await postHubWebhook(bot, hubWebhookBody("acme/math", sha(2)));
    expect(math.status).toBe(202);
    await bot.dispatcher.flush();
    const sent = github.dispatches.map((d) => [d.repo, d.event_type, d.client_payload]);
    expect(sent).toHaveLength(3);
    expect(sent).toEqual(
      expect.arrayContaining([
        ["acme/merges", DISPATCH, { model: "acme/base", sha: sha(1) }],
        ["acme/other", DISPATCH, { model: "acme/base", sha: sha(1) }],
        ["acme/merges", DISPATCH, { model: "acme/math", sha: sha(2) }],
      ]),
    );
    expect(github.dispatches.some((d) => d.repo === "acme/unserved")).toBe(false);
  });

  it("answers a wrong or missing secret with 401 and dispatches nothing", async () => {
    bot = await serve();
    const body = hubWebhookBody("acme/base", sha(1));
    expect((await postHubWebhook(bot, body, { secret: "not-the-secret" })).status).toBe(401);
    expect((await postHubWebhook(bot, body, { secret: `${HF_SECRET}x` })).status).toBe(401);
    expect((await postHubWebhook(bot, body, { secret: null })).status).toBe(401);
    await bot.dispatcher.flush();
    expect(github.dispatches).toHaveLength(0);
  });

  it("never dispatches the same sha twice, and debounces a burst to its newest sha", async () => {
    bot = await serve({ debounceMs: 1000 });
    for (const n of [1, 2, 3]) {
      expect((await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(n)))).status).toBe(202);
    }
    const replayWhilePending = await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(3)));
    expect(replayWhilePending.status).toBe(200);
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => d.client_payload)).toEqual([{ model: "acme/chat", sha: sha(3) }]);
    for (const n of [3, 2]) {
      const replay = await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(n)));
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({
        status: "ignored",
        reason: "already dispatched or scheduled",
      });
    }
    await bot.dispatcher.flush();
    expect(github.dispatches).toHaveLength(1);
  });

  it("ignores unwatched models, other refs, other scopes and non-models with 200 and a reason", async () => {
    bot = await serve();
    const cases: [Record<string, unknown>, RegExp][] = [
      [hubWebhookBody("acme/unknown", sha(1)), /no served repository follows acme\/unknown/],
      [
        hubWebhookBody("acme/base", sha(1), { ref: "refs/pr/1" }),
        /no update to refs\/heads\/main \(updated refs: refs\/pr\/1\)/,
      ],
      [hubWebhookBody("acme/base", sha(1), { ref: "refs/heads/dev" }), /refs\/heads\/dev/],
      [hubWebhookBody("acme/base", null), /was deleted/],
      [hubWebhookBody("acme/base", sha(1), { scope: "discussion" }), /scope discussion/],
      [hubWebhookBody("acme/base", sha(1), { type: "dataset" }), /not a model/],
      [{ hello: "world" }, /not a Hub webhook payload/],
    ];
    for (const [body, reason] of cases) {
      const res = await postHubWebhook(bot, body);
      expect(res.status).toBe(200);
      const json = (await res.json()) as { status: string; reason: string };
      expect(json.status).toBe("ignored");
      expect(json.reason).toMatch(reason);
    }
    expect((await postHubWebhook(bot, "{not json")).status).toBe(400);
    await bot.dispatcher.flush();
    expect(github.dispatches).toHaveLength(0);
  });

  it("refuses an oversized body with 413 and rate-limits a sender with 429", async () => {
    bot = await serve({ maxBodyBytes: 2048, rateLimit: { perMinute: 1, burst: 3 } });
    const padded = { ...hubWebhookBody("acme/base", sha(1)), padding: "x".repeat(4096) };
    expect((await postHubWebhook(bot, padded)).status).toBe(413);
    const huge = { ...hubWebhookBody("acme/base", sha(1)), padding: "x".repeat(64 * 1024) };
    expect((await postHubWebhook(bot, huge)).status).toBe(413);
    expect((await postHubWebhook(bot, hubWebhookBody("acme/base", sha(1)))).status).toBe(202);
    const limited = await postHubWebhook(bot, hubWebhookBody("acme/base", sha(2)));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => d.client_payload.sha)).toEqual([sha(1), sha(1)]);
  });

  it("behind a trusted proxy, rate-limits by the last X-Forwarded-For hop", async () => {
    bot = await serve({ trustProxy: true, rateLimit: { perMinute: 1, burst: 1 } });
    const from = (hops: string) =>
      postHubWebhook(bot!, { hello: 1 }, { headers: { "x-forwarded-for": hops } });
    expect((await from("203.0.113.7")).status).toBe(200);
    expect((await from("203.0.113.7")).status).toBe(429);
    expect((await from("203.0.113.7, 198.51.100.2")).status).toBe(200);
    expect((await from("198.51.100.9, 203.0.113.7")).status).toBe(429); // the first hop is the sender's to forge
  });

  it("retries GitHub 5xx answers, and forgets a dispatch that failed for good so a redelivery can send it", async () => {
    bot = await serve();
    github.faults.set([{ method: "POST", pathIncludes: "/dispatches", status: 502, times: 2 }]);
    await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(7)));
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => d.client_payload)).toEqual([{ model: "acme/chat", sha: sha(7) }]);
    const posts = github.requests.filter((r) => r.method === "POST" && r.path.endsWith("/dispatches"));
    expect(posts.map((r) => r.status)).toEqual([502, 502, 204]);

    github.faults.set([{ method: "POST", pathIncludes: "/dispatches", status: 500 }]);
    await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(8)));
    await bot.dispatcher.flush();
    expect(bot.logs().some((l) => l.event === "dispatch.failed" && l.sha === sha(8))).toBe(true);
    github.faults.clear();
    expect((await postHubWebhook(bot, hubWebhookBody("acme/chat", sha(8)))).status).toBe(202);
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => d.client_payload.sha)).toEqual([sha(7), sha(8)]);
  });

  it("flushes pending debounced dispatches on shutdown", async () => {
    bot = await serve({ debounceMs: 60_000 });
    expect((await postHubWebhook(bot, hubWebhookBody("acme/code", sha(4)))).status).toBe(202);
    expect(bot.dispatcher.pendingCount).toBe(1);
    expect(github.dispatches).toHaveLength(0);
    await bot.close();
    expect(github.dispatches.map((d) => [d.repo, d.client_payload])).toEqual([
      ["acme/merges", { model: "acme/code", sha: sha(4) }],
    ]);
    await expect(fetch(`${bot.url}/healthz`)).rejects.toThrow();
    expect(bot.logs().map((l) => l.event)).toContain("bot.stopped");
  });

  it("abandons a manifest refresh stuck in GitHub retries when it stops", async () => {
    bot = await startTestBot(github, { repos: ["acme/merges"] }, undefined, { throttle: { enabled: false } });
    github.faults.set([{ pathIncludes: "/git/trees/", status: 503 }]);
    github.seedRepo("acme/merges", {
      files: { "merges/more.yaml": manifestUsing(["acme/base", "acme/x"], "acme/y") },
    });
    const push = pushWebhook(github, "acme/merges", { secret: GITHUB_WEBHOOK_SECRET });
    expect((await deliverWebhook(`${bot.url}/github/webhook`, push)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first try failed; a retry waits 1 s
    const started = Date.now();
    await bot.close();
    expect(Date.now() - started).toBeLessThan(500);
    const treeReads = () => github.requests.filter((r) => r.path.includes("/git/trees/")).length;
    const before = treeReads();
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the first retry's wait
    expect(treeReads()).toBe(before); // the retry was aborted, not sent
    expect(bot.logs().some((l) => l.event === "index.refresh_failed")).toBe(false);
    expect(bot.index.subscribers("acme/x")).toEqual([]);
  });
});

describe("the GitHub push webhook", () => {
  it("re-reads a repository after a verified push that changes a manifest", async () => {
    bot = await serve();
    const before = await postHubWebhook(bot, hubWebhookBody("acme/new-ft", sha(5)));
    expect(await before.json()).toMatchObject({ status: "ignored" });

    github.seedRepo("acme/other", {
      files: { "merges/new.yaml": manifestUsing(["acme/base", "acme/new-ft"], "acme/new-out") },
    });
    const forged = pushWebhook(github, "acme/other", { secret: "some-other-secret-123456" });
    expect((await deliverWebhook(`${bot.url}/github/webhook`, forged)).status).toBe(401);
    await bot.settled();
    expect(bot.index.subscribers("acme/new-ft")).toEqual([]);

    const push = pushWebhook(github, "acme/other", { secret: GITHUB_WEBHOOK_SECRET });
    const delivered = await deliverWebhook(`${bot.url}/github/webhook`, push);
    expect(delivered.status).toBe(202);
    await bot.settled();
    expect(bot.index.get("acme/other")?.ref).toBe(github.branchSha("acme/other"));
    expect(bot.index.subscribers("acme/new-ft")).toEqual(["acme/other"]);

    expect((await postHubWebhook(bot, hubWebhookBody("acme/new-ft", sha(5)))).status).toBe(202);
    await bot.dispatcher.flush();
    expect(github.dispatches.map((d) => [d.repo, d.client_payload])).toEqual([
      ["acme/other", { model: "acme/new-ft", sha: sha(5) }],
    ]);
  });

  it("ignores pushes that touch no manifest, other branches, unserved repositories and other events", async () => {
    bot = await serve();
    github.seedRepo("acme/merges", { files: { "README.md": "docs only\n" } });
    const docs = await deliverWebhook(
      `${bot.url}/github/webhook`,
      pushWebhook(github, "acme/merges", { secret: GITHUB_WEBHOOK_SECRET }),
    );
    expect(await docs.json()).toMatchObject({ status: "ignored", reason: "no manifest changed" });
    github.seedRepo("acme/merges", { files: { "merges/b.yaml": "x: 1\n" }, branch: "feature" });
    const feature = await deliverWebhook(
      `${bot.url}/github/webhook`,
      pushWebhook(github, "acme/merges", { secret: GITHUB_WEBHOOK_SECRET, branch: "feature" }),
    );
    expect(await feature.json()).toMatchObject({ status: "ignored" });
    github.seedRepo("acme/unserved", { files: { "merges/y.yaml": "x: 1\n" } });
    const unserved = await deliverWebhook(
      `${bot.url}/github/webhook`,
      pushWebhook(github, "acme/unserved", { secret: GITHUB_WEBHOOK_SECRET }),
    );
    expect(await unserved.json()).toMatchObject({ status: "ignored" });
    const ping = signWebhook("ping", { zen: "Keep it logically awesome." }, GITHUB_WEBHOOK_SECRET);
    expect(await (await deliverWebhook(`${bot.url}/github/webhook`, ping)).json()).toEqual({
      status: "pong",
    });
    await bot.settled();
    expect(github.requests.filter((r) => r.path.includes("/git/trees/"))).toHaveLength(2); // the start only
  });

  it("keeps a broken manifest from hiding the others, and logs it", async () => {
    github.seedRepo("acme/other", { files: { "merges/broken.yaml": "merge_method: [\n" } });
    bot = await serve();
    expect(bot.index.get("acme/other")?.models).toEqual(["acme/base", "acme/chat"]);
    const warning = bot.logs().find((l) => l.event === "manifest.invalid");
    expect(warning).toMatchObject({ repo: "acme/other", path: "merges/broken.yaml" });
    // Pinned where the unclosed `[` opens (line 1, column 15), not where the file ends.
    expect(String(warning?.error)).toMatch(/^acme\/other\/merges\/broken\.yaml:1:15: \[E_MANIFEST\]/);
  });
});
