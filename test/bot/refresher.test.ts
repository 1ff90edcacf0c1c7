import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { GitHubAccess } from "../../src/bot/github-access.js";
import { silentLogger } from "../../src/bot/log.js";
import type { BotOctokit } from "../../src/bot/octokit.js";
import { IndexRefresher } from "../../src/bot/refresher.js";
import { SubscriptionIndex } from "../../src/bot/subscriptions.js";
import { manifestUsing } from "./harness.js";

const REPO = { repo: "acme/merges", manifests: ["merges/**/*.yaml"] };

/** Just the four calls the manifest reader makes, answering from a map of path → text. */
function fakeClient(files: Record<string, string>): BotOctokit {
  const entries = Object.entries(files);
  return {
    rest: {
      repos: { get: async () => ({ data: { default_branch: "main" } }) },
      git: {
        getRef: async () => ({ data: { object: { sha: "c".repeat(40) } } }),
        getTree: async () => ({
          data: {
            truncated: false,
            tree: entries.map(([path], i) => ({ type: "blob", path, sha: String(i) })),
          },
        }),
        getBlob: async ({ file_sha }: { file_sha: string }) => ({
          data: { encoding: "utf-8", content: entries[Number(file_sha)]![1] },
        }),
      },
    },
  } as unknown as BotOctokit;
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

it("retries a repository whose first read failed a minute later, and keeps what it knew after a later failure", async () => {
  let calls = 0;
  let client = fakeClient({ "merges/a.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/out") });
  const access: GitHubAccess = {
    kind: "token",
    clientFor: async () => {
      calls++;
      if (calls === 1 || calls === 3) throw Object.assign(new Error("Service Unavailable"), { status: 503 });
      return client;
    },
  };
  const index = new SubscriptionIndex();
  const refresher = new IndexRefresher(index, access, [REPO], silentLogger);
  await refresher.refreshAll();
  expect(index.get("acme/merges")).toBeUndefined();
  await vi.advanceTimersByTimeAsync(60_000);
  await refresher.idle();
  expect(index.subscribers("acme/ft")).toEqual(["acme/merges"]);

  client = fakeClient({});
  await refresher.refresh(REPO); // fails (third call): the index keeps the models
  expect(index.subscribers("acme/ft")).toEqual(["acme/merges"]);
  await vi.advanceTimersByTimeAsync(120_000);
  expect(calls).toBe(3); // a known repository waits for the schedule instead
  await refresher.refresh(REPO);
  expect(index.subscribers("acme/ft")).toEqual([]);
  refresher.close();
  await refresher.refresh(REPO);
  expect(calls).toBe(4);
});

it("joins requests that find a read of the same repository queued, so a burst costs two reads", async () => {
  let reads = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const client = fakeClient({ "merges/a.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/out") });
  const getTree = client.rest.git.getTree;
  (client.rest.git as { getTree: unknown }).getTree = async (params: never) => {
    reads++;
    await gate; // the first read is still running while the burst arrives
    return getTree(params);
  };
  const access: GitHubAccess = { kind: "token", clientFor: async () => client };
  const index = new SubscriptionIndex();
  const refresher = new IndexRefresher(index, access, [REPO], silentLogger);
  const burst = [refresher.refresh(REPO, "main")];
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; i < 9; i++) burst.push(refresher.refresh(REPO, "main"));
  release();
  await Promise.all(burst);
  expect(reads).toBe(2);
  expect(index.subscribers("acme/ft")).toEqual(["acme/merges"]);
});
