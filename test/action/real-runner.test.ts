/**
 * The Action as a real runner meets it: matrix jobs applying at once, fork pull requests with a
 * read-only token, a job without `contents: write`, a missing secret, `.yml` manifests.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pullRequestEvent, pushEvent } from "../support/github/index.js";
import { FAMILY_MANIFEST } from "../support/hub-models.js";
import { HF_TOKEN, READ_ONLY_TOKEN, REPO, useActionWorld, writeFiles } from "./workspace.js";

const world = useActionWorld();
const A = FAMILY_MANIFEST.replace("acme/merged", "acme/merged-a");
const B = FAMILY_MANIFEST.replace("acme/merged", "acme/merged-b").replace("seed: 5", "seed: 6");

/** No raw octokit error or stack trace reaches the log. */
function expectNoStack(stdout: string): void {
  expect(stdout).not.toMatch(/HttpError|RequestError|\n\s+at .+\(.*:\d+:\d+\)/);
}

describe("the Action on a real runner", () => {
  it("keeps both lock entries when two matrix jobs apply at once; re-publishing equal bytes makes no commit", async () => {
    const { github, hub } = world;
    const files = { "merges/a.yaml": A, "merges/b.yaml": B };
    const { workspace, sha } = await world.checkout(files);
    const second = await world.tempDir();
    await writeFiles(second, files); // each matrix job has a checkout of its own
    const push = pushEvent({ repo: REPO, after: sha });
    const [a, b] = await Promise.all([
      world.action(workspace, push, { "hf-token": HF_TOKEN, only: "merges/a.yaml" }),
      world.action(second, push, { "hf-token": HF_TOKEN, only: "merges/b.yaml" }),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const lock = JSON.parse(github.readFile(REPO, "hubmerge.lock.json")!);
    expect(Object.keys(lock.manifests)).toEqual(["merges/a.yaml", "merges/b.yaml"]);
    expect(lock.manifests["merges/a.yaml"].output.commit).toBe(hub.admin.head("acme/merged-a"));
    expect(lock.manifests["merges/b.yaml"].output.commit).toBe(hub.admin.head("acme/merged-b"));
    // The job that committed last (either may) holds what the branch holds, not only its own entry.
    const local = await Promise.all(
      [workspace, second].map((dir) => readFile(join(dir, "hubmerge.lock.json"), "utf8")),
    );
    expect(local).toContain(github.readFile(REPO, "hubmerge.lock.json"));

    const head = hub.admin.head("acme/merged-a");
    const commits = github.commits(REPO).length;
    const again = await world.action(workspace, pushEvent({ repo: REPO, after: github.branchSha(REPO)! }), {
      "hf-token": HF_TOKEN,
      only: "merges/a.yaml",
      force: "true",
    });
    expect(again.code).toBe(0);
    expect(hub.admin.head("acme/merged-a")).toBe(head);
    expect(JSON.parse(again.outputs["results"]!)).toEqual([
      expect.objectContaining({
        manifest: "merges/a.yaml",
        status: "published",
        commit: head,
        unchanged: true,
      }),
    ]);
    expect(again.summary).toContain("no Hub commit was made");
    expect(github.commits(REPO)).toHaveLength(commits); // and the lock already said so
  });

  it("warns, and still passes, when a fork's read-only token cannot comment on the pull request", async () => {
    const { github } = world;
    const { workspace, sha: base } = await world.checkout({ "README.md": "merges\n" });
    const sha = github.seedRepo(REPO, { files: { "merges/demo.yaml": FAMILY_MANIFEST }, branch: "fork-pr" });
    await writeFiles(workspace, { "merges/demo.yaml": FAMILY_MANIFEST });
    const pull = github.openPull(REPO, { title: "From a fork", head: "fork-pr" });
    const event = pullRequestEvent({
      repo: REPO,
      number: pull.number,
      head: { ref: "fork-pr", sha },
      base: { ref: "main", sha: base },
    });
    const run = await world.action(workspace, event, { "github-token": READ_ONLY_TOKEN });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::could not comment on pull request #\d+ \(HTTP 403/);
    expect(run.stdout).toContain("docs/workflows/plan-comment.yml");
    expectNoStack(run.stdout);
    expect(run.summary).toContain("## hubmerge plan");
    expect(github.comments(REPO, pull.number)).toHaveLength(0);
  });

  it("retries GitHub's 502s: one failed comment listing does not fail the plan", async () => {
    const { github } = world;
    const { workspace, sha: base } = await world.checkout({ "README.md": "merges\n" });
    const sha = github.seedRepo(REPO, { files: { "merges/demo.yaml": FAMILY_MANIFEST }, branch: "add" });
    await writeFiles(workspace, { "merges/demo.yaml": FAMILY_MANIFEST });
    const pull = github.openPull(REPO, { title: "Add", head: "add" });
    github.faults.set([{ method: "GET", pathIncludes: "/comments", status: 502, times: 1 }]);
    const event = pullRequestEvent({
      repo: REPO,
      number: pull.number,
      head: { ref: "add", sha },
      base: { ref: "main", sha: base },
    });
    const run = await world.action(workspace, event, {});
    expect(run.code).toBe(0);
    expect(github.faults.count).toBe(1);
    expect(github.comments(REPO, pull.number)).toHaveLength(1);
  });

  it("reports what it published when the lock commit is refused (contents: read)", async () => {
    const { hub } = world;
    const { workspace, sha } = await world.checkout({ "merges/demo.yaml": FAMILY_MANIFEST });
    const run = await world.action(workspace, pushEvent({ repo: REPO, after: sha }), {
      "hf-token": HF_TOKEN,
      "github-token": READ_ONLY_TOKEN,
    });
    expect(run.code).toBe(1);
    expect(hub.admin.head("acme/merged")).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.parse(run.outputs["results"]!)).toEqual([
      expect.objectContaining({ manifest: "merges/demo.yaml", status: "published", repo: "acme/merged" }),
    ]);
    expect(run.summary).toContain("✅ published");
    expect(run.summary).toContain("The lockfile was not recorded");
    expect(run.stdout).toContain("permissions: contents: write");
    expectNoStack(run.stdout);
  });

  it("fails at input time, naming hf-token, when apply has no Hub token", async () => {
    const { hub } = world;
    const { workspace, sha } = await world.checkout({ "merges/demo.yaml": FAMILY_MANIFEST });
    const run = await world.action(workspace, pushEvent({ repo: REPO, after: sha }), {});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::.*input hf-token is empty/);
    expect(run.stdout).not.toMatch(/set HF_TOKEN|--token/); // the CLI's words, not the workflow's
    expect(hub.requests.entries).toHaveLength(0); // nothing was resolved, let alone merged
  });

  it("finds .yml manifests by default, and warns when the glob matches nothing", async () => {
    const { workspace, sha } = await world.checkout({ "merges/x.yml": FAMILY_MANIFEST });
    const push = pushEvent({ repo: REPO, after: sha });
    const found = await world.action(workspace, push, { mode: "plan" });
    expect(found.code).toBe(0);
    expect(JSON.parse(found.outputs["matrix"]!)).toEqual({ include: [{ manifest: "merges/x.yml" }] });
    const none = await world.action(workspace, push, { mode: "plan", manifests: "models/*.yaml" });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('::warning::no manifest matches "models/*.yaml"');
  });
});
