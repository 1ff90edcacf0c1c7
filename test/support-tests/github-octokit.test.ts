/** The unmodified octokit client (retry plugin included) against the local GitHub. */
import { App, Octokit } from "octokit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createAppKeyPair, startLocalGitHub, type LocalGitHub } from "../support/github/index.js";

const R = { owner: "acme", repo: "merges" };
let keys: ReturnType<typeof createAppKeyPair>;
let github: LocalGitHub;

/** Throttling spaces writes 1 s apart and waits ≥ 1 s on Retry-After: off for tests. */
function client(auth?: string): Octokit {
  return new Octokit({
    auth,
    baseUrl: github.url,
    throttle: { enabled: false },
    retry: { retryAfterBaseValue: 1 },
  });
}

beforeAll(async () => {
  keys = createAppKeyPair(1024);
  github = await startLocalGitHub({
    tokens: ["ghp_octo"],
    app: { id: 31, publicKeyPem: keys.publicKeyPem },
    installations: { "acme/merges": 8 },
  });
});
afterAll(() => github.close());

describe("octokit against the local GitHub", () => {
  it("commits through the Git Data API, opens a PR, pages comments and retries a 502", async () => {
    const octokit = client("ghp_octo");
    github.seedRepo("acme/merges", { files: { "merges/a.yaml": "a: 1\n" } });
    const file = await octokit.rest.repos.getContent({
      ...R,
      path: "merges/a.yaml",
      mediaType: { format: "raw" },
    });
    expect(file.data).toBe("a: 1\n");

    const ref = await octokit.rest.git.getRef({ ...R, ref: "heads/main" });
    const parent = await octokit.rest.git.getCommit({ ...R, commit_sha: ref.data.object.sha });
    const tree = await octokit.rest.git.createTree({
      ...R,
      base_tree: parent.data.tree.sha,
      tree: [{ path: "hubmerge.lock.json", mode: "100644", type: "blob", content: "{}\n" }],
    });
    const commit = await octokit.rest.git.createCommit({
      ...R,
      message: "lock",
      tree: tree.data.sha,
      parents: [parent.data.sha],
    });
    await octokit.rest.git.createRef({ ...R, ref: "refs/heads/hubmerge/lock", sha: commit.data.sha });
    const pull = await octokit.rest.pulls.create({
      ...R,
      title: "Lock",
      head: "hubmerge/lock",
      base: "main",
    });
    const open = await octokit.rest.pulls.list({ ...R, head: "acme:hubmerge/lock", state: "open" });
    expect(open.data.map((p) => p.number)).toEqual([pull.data.number]);

    for (let i = 0; i < 5; i++) {
      await octokit.rest.issues.createComment({ ...R, issue_number: pull.data.number, body: `c${i}` });
    }
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...R,
      issue_number: pull.data.number,
      per_page: 2,
    });
    expect(comments.map((c) => c.body)).toEqual(["c0", "c1", "c2", "c3", "c4"]);

    github.faults.set([{ method: "POST", pathIncludes: "/dispatches", times: 1, status: 502 }]);
    await octokit.rest.repos.createDispatchEvent({
      ...R,
      event_type: "hubmerge-source-updated",
      client_payload: {},
    });
    expect(github.dispatches).toHaveLength(1);
    expect(github.readFile("acme/merges", "hubmerge.lock.json", "hubmerge/lock")).toBe("{}\n");
  });

  it("lets the throttling plugin wait out a secondary rate limit (403 + Retry-After)", async () => {
    const onSecondaryRateLimit = vi.fn((_retryAfter: number) => true);
    const octokit = new Octokit({
      auth: "ghp_octo",
      baseUrl: github.url,
      throttle: { retryAfterBaseValue: 1, onSecondaryRateLimit, onRateLimit: () => false },
    });
    github.faults.set([{ method: "GET", pathIncludes: "/contents/", times: 1, status: 403, retryAfter: 2 }]);
    const file = await octokit.rest.repos.getContent({
      ...R,
      path: "merges/a.yaml",
      mediaType: { format: "raw" },
    });
    expect(file.data).toBe("a: 1\n");
    expect(onSecondaryRateLimit).toHaveBeenCalledOnce();
    expect(onSecondaryRateLimit.mock.calls[0]?.[0]).toBe(2);
  });

  it("authenticates as the app and then as its installation", async () => {
    const app = new App({
      appId: 31,
      privateKey: keys.privateKeyPem,
      Octokit: Octokit.defaults({ baseUrl: github.url, throttle: { enabled: false } }),
    });
    const { data: me } = await app.octokit.request("GET /app");
    expect(me?.id).toBe(31);
    const installation = await app.octokit.rest.apps.getRepoInstallation(R);
    const octokit = await app.getInstallationOctokit(installation.data.id);
    await octokit.rest.repos.createDispatchEvent({ ...R, event_type: "from-app" });
    expect(github.dispatches.at(-1)).toMatchObject({ event_type: "from-app", sender: "hubmerge-local[bot]" });
  });
});
