import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import { api, REPO, TOKEN } from "./github-fetch.js";
import { useTempDirs } from "../support/tmp.js";

let github: LocalGitHub;
beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [TOKEN, { token: "ghp_alice", login: "alice" }] });
});
afterEach(() => github.close());

describe("repositories and contents", () => {
  it("serves repo metadata, files (base64 or raw) and folder listings with GitHub's headers", async () => {
    github.seedRepo(REPO, { files: { "merges/a.yaml": "method: slerp\n", "README.md": "hello" } });
    const repo = await api(github, "GET", `/repos/${REPO}`, { token: null });
    expect(repo.status).toBe(200);
    expect(repo.json).toMatchObject({ full_name: REPO, default_branch: "main", private: false });
    expect(repo.headers.get("x-github-request-id")).toMatch(/^[0-9A-F:]+$/);
    expect(Number(repo.headers.get("x-ratelimit-remaining"))).toBeGreaterThan(0);
    expect(repo.headers.get("x-ratelimit-limit")).toBe("5000");

    const file = await api(github, "GET", `/repos/${REPO}/contents/README.md?ref=main`);
    expect(file.json).toMatchObject({ type: "file", path: "README.md", encoding: "base64", size: 5 });
    // git's own blob id for "hello"
    expect(file.json.sha).toBe("b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
    expect(Buffer.from(file.json.content, "base64").toString()).toBe("hello");

    const raw = await fetch(`${github.url}/repos/${REPO}/contents/merges%2Fa.yaml`, {
      headers: { accept: "application/vnd.github.raw+json" },
    });
    expect(await raw.text()).toBe("method: slerp\n");
    const viaDownload = await fetch(
      (await api(github, "GET", `/repos/${REPO}/contents/merges/a.yaml`)).json.download_url,
    );
    expect(await viaDownload.text()).toBe("method: slerp\n");

    const dir = await api(github, "GET", `/repos/${REPO}/contents/merges`);
    expect(dir.json.map((e: { path: string; type: string }) => [e.path, e.type])).toEqual([
      ["merges/a.yaml", "file"],
    ]);
    const root = await api(github, "GET", `/repos/${REPO}/contents`);
    expect(root.json.map((e: { name: string; type: string }) => `${e.name}:${e.type}`)).toEqual([
      "README.md:file",
      "merges:dir",
    ]);
  });

  it("answers 404 in GitHub's error shape and 401 for bad credentials", async () => {
    github.seedRepo(REPO, { files: { "a.txt": "a" } });
    const missing = await api(github, "GET", `/repos/acme/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      message: "Not Found",
      documentation_url: expect.stringContaining("docs.github.com"),
    });
    expect((await api(github, "GET", `/repos/${REPO}/contents/b.txt`)).status).toBe(404);
    expect((await api(github, "GET", `/repos/${REPO}/contents/a.txt?ref=nope`)).json.message).toMatch(
      /No commit found/,
    );
    const bad = await api(github, "GET", `/repos/${REPO}`, { token: "ghp_wrong" });
    expect(bad).toMatchObject({ status: 401, json: { message: "Bad credentials" } });
    const anonymousWrite = await api(github, "POST", `/repos/${REPO}/git/blobs`, {
      token: null,
      body: { content: "x" },
    });
    expect(anonymousWrite).toMatchObject({ status: 401, json: { message: "Requires authentication" } });
  });

  it("hides private repositories from anonymous callers", async () => {
    github.seedRepo("acme/secret", { files: { "a.txt": "a" }, private: true });
    expect((await api(github, "GET", "/repos/acme/secret", { token: null })).status).toBe(404);
    expect((await api(github, "GET", "/repos/acme/secret")).status).toBe(200);
  });
});

describe("git data API", () => {
  it("writes blob → tree (base_tree) → commit → ref, and contents then reads the new file", async () => {
    const first = github.seedRepo(REPO, { files: { "README.md": "hi", "merges/a.yaml": "a: 1\n" } });
    const ref = await api(github, "GET", `/repos/${REPO}/git/ref/heads/main`);
    expect(ref.json).toMatchObject({ ref: "refs/heads/main", object: { sha: first, type: "commit" } });
    const parent = await api(github, "GET", `/repos/${REPO}/git/commits/${first}`);
    expect(parent.json.parents).toEqual([]);

    const blob = await api(github, "POST", `/repos/${REPO}/git/blobs`, {
      body: { content: Buffer.from('{"lock":1}\n').toString("base64"), encoding: "base64" },
    });
    expect(blob.status).toBe(201);
    const tree = await api(github, "POST", `/repos/${REPO}/git/trees`, {
      body: {
        base_tree: parent.json.tree.sha,
        tree: [
          { path: "hubmerge.lock.json", mode: "100644", type: "blob", sha: blob.json.sha },
          { path: "merges/b/c.yaml", mode: "100644", type: "blob", content: "c: 3\n" },
          { path: "README.md", mode: "100644", type: "blob", sha: null },
        ],
      },
    });
    expect(tree.status).toBe(201);
    const commit = await api(github, "POST", `/repos/${REPO}/git/commits`, {
      body: { message: "Update lock", tree: tree.json.sha, parents: [first] },
    });
    expect(commit.json).toMatchObject({
      message: "Update lock",
      parents: [{ sha: first }],
      tree: { sha: tree.json.sha },
    });
    // octokit sends `heads%2Fmain`; both spellings work
    const moved = await api(github, "PATCH", `/repos/${REPO}/git/refs/heads%2Fmain`, {
      body: { sha: commit.json.sha },
    });
    expect(moved.json.object.sha).toBe(commit.json.sha);

    const lock = await api(github, "GET", `/repos/${REPO}/contents/hubmerge.lock.json`);
    expect(Buffer.from(lock.json.content, "base64").toString()).toBe('{"lock":1}\n');
    expect(github.readFile(REPO, "merges/b/c.yaml")).toBe("c: 3\n");
    expect(github.readFile(REPO, "README.md")).toBeUndefined();
    expect(github.readFile(REPO, "README.md", first)).toBe("hi");
    expect(github.commits(REPO, "main").map((c) => c.message)).toEqual(["Update lock", "Initial commit"]);

    const listing = await api(github, "GET", `/repos/${REPO}/git/trees/${tree.json.sha}?recursive=1`);
    expect(listing.json.tree.map((e: { path: string }) => e.path)).toEqual([
      "hubmerge.lock.json",
      "merges",
      "merges/a.yaml",
      "merges/b",
      "merges/b/c.yaml",
    ]);
    const byBranch = await api(github, "GET", `/repos/${REPO}/git/trees/main?recursive=1`);
    expect(byBranch.json.sha).toBe(tree.json.sha);
  });

  it("rejects a non-fast-forward ref update unless forced, and refs that already exist", async () => {
    const base = github.seedRepo(REPO, { files: { "a.txt": "1" } });
    const ahead = github.seedRepo(REPO, { files: { "a.txt": "2" } });
    const tree = (await api(github, "GET", `/repos/${REPO}/git/commits/${base}`)).json.tree.sha;
    const sibling = await api(github, "POST", `/repos/${REPO}/git/commits`, {
      body: { message: "sideways", tree, parents: [base] },
    });
    const refPath = `/repos/${REPO}/git/refs/heads/main`;
    const rejected = await api(github, "PATCH", refPath, { body: { sha: sibling.json.sha } });
    expect(rejected).toMatchObject({ status: 422, json: { message: "Update is not a fast forward" } });
    expect(github.branchSha(REPO)).toBe(ahead);
    expect(
      (await api(github, "PATCH", refPath, { body: { sha: sibling.json.sha, force: true } })).status,
    ).toBe(200);

    const create = (ref: string) =>
      api(github, "POST", `/repos/${REPO}/git/refs`, { body: { ref, sha: base } });
    expect((await create("refs/heads/hubmerge/lock")).status).toBe(201);
    expect((await create("refs/heads/hubmerge/lock")).json.message).toBe("Reference already exists");
    expect((await api(github, "GET", `/repos/${REPO}/git/ref/heads/hubmerge/lock`)).json.object.sha).toBe(
      base,
    );
  });

  it("hashes trees and commits exactly as git does", async () => {
    const sha = github.seedRepo(REPO, {
      files: { "z.txt": "z\n", "a/b.txt": "b\n", "a.txt": "a\n", "a-b/c": "c" },
    });
    const commit = github.commits(REPO)[0];
    const dir = await makeTemp();
    for (const [path, content] of Object.entries({
      "z.txt": "z\n",
      "a/b.txt": "b\n",
      "a.txt": "a\n",
      "a-b/c": "c",
    })) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await writeFile(join(dir, "..msg"), commit?.message ?? "");
    const date = `${Date.parse(commit?.author.date ?? "") / 1000} +0000`;
    const who = { NAME: commit?.author.name ?? "", EMAIL: commit?.author.email ?? "" };
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: who.NAME,
      GIT_AUTHOR_EMAIL: who.EMAIL,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: who.NAME,
      GIT_COMMITTER_EMAIL: who.EMAIL,
      GIT_COMMITTER_DATE: date,
    };
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env, encoding: "utf8" }).trim();
    try {
      git("init", "-q");
    } catch {
      return; // no git binary here: the known blob id above still checks the hashing
    }
    git("add", "--", "z.txt", "a", "a.txt", "a-b");
    const tree = git("write-tree");
    expect(commit?.tree).toBe(tree);
    expect(git("commit-tree", tree, "-F", "..msg")).toBe(sha);
  });
});

const makeTemp = useTempDirs();

describe("pull requests", () => {
  it("opens a PR, refuses a duplicate, and finds it by head and state", async () => {
    github.seedRepo(REPO, { files: { "a.txt": "1" } });
    github.seedRepo(REPO, { files: { "hubmerge.lock.json": "{}" }, branch: "hubmerge/lock-update" });
    const body = { title: "Update lock", head: "hubmerge/lock-update", base: "main", body: "sources moved" };
    const created = await api(github, "POST", `/repos/${REPO}/pulls`, { body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      number: 1,
      state: "open",
      html_url: `https://github.com/${REPO}/pull/1`,
      head: { ref: "hubmerge/lock-update", sha: github.branchSha(REPO, "hubmerge/lock-update") },
      base: { ref: "main" },
      user: { login: "github-actions[bot]" },
    });
    const duplicate = await api(github, "POST", `/repos/${REPO}/pulls`, {
      body: { ...body, head: "acme:hubmerge/lock-update" },
    });
    expect(duplicate.status).toBe(422);
    expect(duplicate.json.errors[0].message).toMatch(/already exists/);

    const found = await api(github, "GET", `/repos/${REPO}/pulls?head=acme:hubmerge/lock-update&state=open`);
    expect(found.json.map((p: { number: number }) => p.number)).toEqual([1]);
    expect((await api(github, "GET", `/repos/${REPO}/pulls?head=acme:other`)).json).toEqual([]);
    expect((await api(github, "GET", `/repos/${REPO}/pulls?state=closed`)).json).toEqual([]);
    await api(github, "PATCH", `/repos/${REPO}/pulls/1`, { body: { state: "closed" } });
    expect((await api(github, "GET", `/repos/${REPO}/pulls?state=all`)).json[0].state).toBe("closed");
    expect(github.pulls(REPO)[0]?.state).toBe("closed");

    github.seedRepo(REPO, { files: {}, branch: "empty", message: "no change" });
    const nothing = await api(github, "POST", `/repos/${REPO}/pulls`, {
      body: { title: "x", head: "main", base: "empty" },
    });
    expect(nothing.json.errors[0].message).toMatch(/No commits between/);
  });
});

describe("issue comments", () => {
  it("creates, pages through (Link header), updates and deletes comments", async () => {
    github.seedRepo(REPO, { files: { "a.txt": "1" } });
    github.seedRepo(REPO, { files: { "a.txt": "2" }, branch: "feature" });
    const pull = github.openPull(REPO, { title: "Change", head: "feature" });
    const path = `/repos/${REPO}/issues/${pull.number}/comments`;
    for (let i = 0; i < 5; i++) {
      const made = await api(github, "POST", path, { body: { body: `comment ${i}` } });
      expect(made.status).toBe(201);
    }
    const bodies: string[] = [];
    let next: string | undefined = `${path}?per_page=2`;
    let pages = 0;
    while (next !== undefined) {
      const page = await api(github, "GET", next);
      bodies.push(...page.json.map((c: { body: string }) => c.body));
      if (pages === 0) expect(page.headers.get("link")).toMatch(/page=3>; rel="last"/);
      next = /<([^>]+)>; rel="next"/.exec(page.headers.get("link") ?? "")?.[1];
      pages++;
    }
    expect(pages).toBe(3);
    expect(bodies).toEqual([0, 1, 2, 3, 4].map((i) => `comment ${i}`));

    const [firstComment, secondComment] = github.comments(REPO, pull.number);
    const edited = await api(github, "PATCH", `/repos/${REPO}/issues/comments/${firstComment?.id}`, {
      body: { body: "<!-- hubmerge-plan --> updated" },
    });
    expect(edited.json).toMatchObject({
      body: "<!-- hubmerge-plan --> updated",
      user: { login: "github-actions[bot]" },
    });
    expect((await api(github, "DELETE", `/repos/${REPO}/issues/comments/${secondComment?.id}`)).status).toBe(
      204,
    );
    expect(github.comments(REPO, pull.number).map((c) => c.body)).toEqual([
      "<!-- hubmerge-plan --> updated",
      "comment 2",
      "comment 3",
      "comment 4",
    ]);
    expect((await api(github, "GET", `/repos/${REPO}/issues/99/comments`)).status).toBe(404);
  });
});

describe("repository dispatch", () => {
  it("records valid dispatches (204) and rejects what GitHub rejects (422)", async () => {
    github.seedRepo(REPO, { files: { "a.txt": "1" } });
    const path = `/repos/${REPO}/dispatches`;
    const ok = await api(github, "POST", path, {
      body: { event_type: "hubmerge-source-updated", client_payload: { model: "org/base", sha: "abc" } },
    });
    expect(ok.status).toBe(204);
    expect(github.dispatches).toEqual([
      expect.objectContaining({
        repo: REPO,
        event_type: "hubmerge-source-updated",
        client_payload: { model: "org/base", sha: "abc" },
        sender: "github-actions[bot]",
      }),
    ]);
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]));
    const invalid = [
      { event_type: "x".repeat(101) },
      { event_type: "x", client_payload: tooMany },
      { client_payload: {} },
    ];
    for (const body of invalid) expect((await api(github, "POST", path, { body })).status).toBe(422);
    expect((await api(github, "POST", path, { body: { event_type: "x" }, token: null })).status).toBe(401);
    expect(github.dispatches).toHaveLength(1);
  });
});

describe("fault injection and the request log", () => {
  it("fails matching requests the given number of times, then serves them", async () => {
    github.seedRepo(REPO, { files: { "a.txt": "1" } });
    github.faults.set([
      { method: "GET", pathIncludes: "/contents/", times: 2, status: 503 },
      { method: "POST", pathIncludes: "/dispatches", times: 1, status: 403, retryAfter: 0 },
    ]);
    const contents = `/repos/${REPO}/contents/a.txt`;
    expect((await api(github, "GET", contents)).status).toBe(503);
    expect((await api(github, "GET", contents)).status).toBe(503);
    expect((await api(github, "GET", contents)).status).toBe(200);
    const limited = await api(github, "POST", `/repos/${REPO}/dispatches`, { body: { event_type: "x" } });
    expect(limited.status).toBe(403);
    expect(limited.headers.get("retry-after")).toBe("0");
    expect(limited.json.message).toMatch(/secondary rate limit/);
    expect(
      (await api(github, "POST", `/repos/${REPO}/dispatches`, { body: { event_type: "x" } })).status,
    ).toBe(204);
    expect(github.faults.count).toBe(3);
    expect(
      github.requests.map((r) => `${r.method} ${r.path} ${r.status}${r.faulted ? " faulted" : ""}`),
    ).toEqual([
      `GET ${contents} 503 faulted`,
      `GET ${contents} 503 faulted`,
      `GET ${contents} 200`,
      `POST /repos/${REPO}/dispatches 403 faulted`,
      `POST /repos/${REPO}/dispatches 204`,
    ]);
  });
});
