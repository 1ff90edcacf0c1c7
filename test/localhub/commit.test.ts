/** The NDJSON commit endpoint: atomicity, concurrency, deletions, pagination of the read APIs. */
import { commit, listCommits, listFiles, type HubApiError } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ treePageSize: 3 });
  await t.hub.admin.createRepo("alice/m");
});
afterAll(() => t.stop());

async function postCommit(lines: unknown[], branch = "main") {
  const res = await fetch(`${t.hub.url}/api/models/alice/m/commit/${encodeURIComponent(branch)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ALICE}`, "Content-Type": "application/x-ndjson" },
    body: lines.map((line) => JSON.stringify(line)).join("\n"),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; commitOid?: string } };
}

const header = (summary: string, parentCommit?: string) => ({
  key: "header",
  value: { summary, parentCommit },
});
const file = (path: string, text: string) => ({
  key: "file",
  value: { path, content: Buffer.from(text).toString("base64"), encoding: "base64" },
});

describe("commit endpoint", () => {
  it("is all or nothing: a missing LFS object fails the whole commit with a clear error", async () => {
    const before = t.hub.admin.head("alice/m");
    const { status, body } = await postCommit([
      header("half"),
      file("a.txt", "a"),
      { key: "lfsFile", value: { path: "w.safetensors", algo: "sha256", oid: "b".repeat(64), size: 10 } },
    ]);
    expect(status).toBe(422);
    expect(body.error).toMatch(/never uploaded/);
    expect(t.hub.admin.head("alice/m")).toBe(before);
  });

  it("serializes concurrent commits: with the same parentCommit exactly one wins", async () => {
    const parent = t.hub.admin.head("alice/m");
    const results = await Promise.all(
      ["x", "y", "z"].map((name) => postCommit([header(`add ${name}`, parent), file(`${name}.txt`, name)])),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    const winner = results.find((r) => r.status === 200)!.body.commitOid;
    expect(t.hub.admin.head("alice/m")).toBe(winner);
  });

  it("without parentCommit, concurrent commits all land in sequence", async () => {
    const results = await Promise.all(
      ["p", "q", "r"].map((n) => postCommit([header(`add ${n}`), file(`d/${n}.txt`, n)])),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const paths = [];
    for await (const entry of listFiles({ hubUrl: t.hub.url, repo: "alice/m", path: "d" }))
      paths.push(entry.path);
    expect(paths).toEqual(["d/p.txt", "d/q.txt", "d/r.txt"]);
  });

  it("deletes files and folders; deleting a missing file is EntryNotFound", async () => {
    expect((await postCommit([header("rm"), { key: "deletedFolder", value: { path: "d/" } }])).status).toBe(
      200,
    );
    const missing = await postCommit([header("rm"), { key: "deletedFile", value: { path: "nope.txt" } }]);
    expect(missing.status).toBe(404);
    await expect(
      commit({
        hubUrl: t.hub.url,
        accessToken: ALICE,
        repo: "alice/m",
        title: "del",
        operations: [{ operation: "delete", path: "d/p.txt" }],
      }),
    ).rejects.toMatchObject({ statusCode: 404 } satisfies Partial<HubApiError>);
  });

  it("refuses malformed payloads and unsafe paths", async () => {
    expect((await postCommit([file("a.txt", "a")])).status).toBe(400);
    expect((await postCommit([header("t"), file("../escape.txt", "a")])).status).toBe(400);
    expect((await postCommit([header("t"), { key: "bogus", value: {} }])).status).toBe(400);
    expect((await postCommit([header("t"), file("a.txt", "a")], "no-such-branch")).status).toBe(404);
  });

  it("create_pr commits on a new refs/pr/N branch", async () => {
    const res = await fetch(`${t.hub.url}/api/models/alice/m/commit/main?create_pr=1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ALICE}` },
      body: [header("pr"), file("pr.txt", "pr")].map((l) => JSON.stringify(l)).join("\n"),
    });
    const body = (await res.json()) as { pullRequestUrl: string; commitOid: string };
    expect(body.pullRequestUrl).toMatch(/\/discussions\/1$/);
    expect(t.hub.admin.head("alice/m", "refs/pr/1")).toBe(body.commitOid);
    const refs = await (await fetch(`${t.hub.url}/api/models/alice/m/refs`)).json();
    expect(refs).toMatchObject({ pullRequests: [{ name: "refs/pr/1" }] });
  });
});

describe("pagination", () => {
  it("follows Link headers through the tree and the commit list", async () => {
    await t.hub.admin.commit(
      "alice/m",
      Object.fromEntries(["1", "2", "3", "4", "5"].map((n) => [`f${n}.txt`, n])),
    );
    const paths = [];
    for await (const entry of listFiles({ hubUrl: t.hub.url, repo: "alice/m" })) paths.push(entry.path);
    expect(paths).toEqual(expect.arrayContaining(["f1.txt", "f5.txt", ".gitattributes"]));
    expect(new Set(paths).size).toBe(paths.length);
    expect(t.hub.requests.matching({ pathIncludes: "/tree/main" }).length).toBeGreaterThan(2);
    const titles = [];
    for await (const c of listCommits({ hubUrl: t.hub.url, repo: "alice/m", batchSize: 2 }))
      titles.push(c.title);
    const total = Number(
      (await fetch(`${t.hub.url}/api/models/alice/m/commits/main?limit=1`)).headers.get("X-Total-Count"),
    );
    expect(titles).toHaveLength(total);
    expect(titles.at(-1)).toBe("initial commit");
  });
});
