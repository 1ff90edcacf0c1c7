import { createHmac, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  deliverWebhook,
  pullRequestEvent,
  pushEventFromRepo,
  pushWebhook,
  repositoryDispatchEvent,
  scheduleEvent,
  startLocalGitHub,
  workflowDispatchEvent,
  writeActionEvent,
  type LocalGitHub,
} from "../support/github/index.js";
import { useTempDirs } from "../support/tmp.js";
import { REPO } from "./github-fetch.js";

const makeTemp = useTempDirs();
let github: LocalGitHub;
beforeEach(async () => {
  github = await startLocalGitHub({ installations: { [REPO]: 9 } });
});
afterEach(() => github.close());

describe("push events from the local GitHub's history", () => {
  it("lists each pushed commit with the files it added, modified and removed", () => {
    const first = github.seedRepo(REPO, { files: { "merges/a.yaml": "a", "README.md": "r" } });
    github.seedRepo(REPO, { files: { "merges/b.yaml": "b", "merges/a.yaml": "a2" } });
    const head = github.seedRepo(REPO, { files: { "README.md": null } });
    const event = pushEventFromRepo(github, REPO, { before: first });
    expect(event).toMatchObject({ name: "push", sha: head, ref: "refs/heads/main" });
    expect(event.payload).toMatchObject({ before: first, after: head, installation: { id: 9 } });
    const commits = event.payload.commits as { added: string[]; modified: string[]; removed: string[] }[];
    expect(commits.map(({ added, modified, removed }) => ({ added, modified, removed }))).toEqual([
      { added: ["merges/b.yaml"], modified: ["merges/a.yaml"], removed: [] },
      { added: [], modified: [], removed: ["README.md"] },
    ]);
    expect((event.payload.head_commit as { id: string }).id).toBe(head);
  });

  it("signs the push webhook so a receiver can verify X-Hub-Signature-256", async () => {
    github.seedRepo(REPO, { files: { "merges/a.yaml": "a" } });
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const hook = pushWebhook(github, REPO, { secret: "s3cret" });
      const res = await deliverWebhook(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, hook);
      expect(res.status).toBe(200);
      const got = received[0];
      expect(got?.headers["x-github-event"]).toBe("push");
      const expected = `sha256=${createHmac("sha256", "s3cret")
        .update(got?.body ?? "")
        .digest("hex")}`;
      const signature = String(got?.headers["x-hub-signature-256"]);
      expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);
      expect(JSON.parse(got?.body ?? "{}").repository.full_name).toBe(REPO);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe("Action event files", () => {
  it("writes GITHUB_EVENT_PATH and the runner's variables for each trigger", async () => {
    const sha = github.seedRepo(REPO, { files: { "a.txt": "1" } });
    const events = [
      pullRequestEvent({ repo: REPO, number: 3, head: { ref: "feature", sha }, base: { ref: "main", sha } }),
      pushEventFromRepo(github, REPO),
      scheduleEvent({ repo: REPO, sha }),
      repositoryDispatchEvent({
        repo: REPO,
        sha,
        eventType: "hubmerge-source-updated",
        clientPayload: { model: "o/m" },
      }),
      workflowDispatchEvent({ repo: REPO, sha, inputs: { only: "merges/a.yaml", force: "true" } }),
    ];
    for (const event of events) {
      const dir = await makeTemp();
      const { path, env } = await writeActionEvent(dir, event, { apiUrl: github.url });
      expect(env).toMatchObject({
        GITHUB_EVENT_NAME: event.name,
        GITHUB_EVENT_PATH: path,
        GITHUB_REPOSITORY: REPO,
      });
      expect(env.GITHUB_API_URL).toBe(github.url);
      expect(JSON.parse(await readFile(path, "utf8"))).toEqual(event.payload);
    }
    const [pr, , schedule, dispatch] = events;
    expect(pr?.payload).toMatchObject({
      action: "opened",
      number: 3,
      pull_request: { head: { ref: "feature" } },
    });
    expect(pr?.ref).toBe("refs/pull/3/merge");
    expect(schedule?.payload.schedule).toMatch(/\*/);
    expect(dispatch?.payload).toMatchObject({
      action: "hubmerge-source-updated",
      client_payload: { model: "o/m" },
    });
  });
});
