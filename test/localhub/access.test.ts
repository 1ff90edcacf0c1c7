/** Error codes and access rules: missing repo/revision/file, private repos, gated repos, writes. */
import {
  downloadFile,
  fileExists,
  listFiles,
  modelInfo,
  repoExists,
  uploadFile,
  type HubApiError,
} from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, READER, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
  await t.hub.admin.createRepo("alice/public");
  await t.hub.admin.commit("alice/public", { "config.json": "{}" });
  await t.hub.admin.createRepo("alice/secret", { private: true });
  await t.hub.admin.commit("alice/secret", { "config.json": "{}" });
  await t.hub.admin.createRepo("acme/org-secret", { private: true });
  await t.hub.admin.createRepo("alice/gated", { gated: true });
  await t.hub.admin.commit("alice/gated", { "config.json": '{"gated": true}' });
});
afterAll(() => t.stop());

/** Status and X-Error-Code of a raw GET. */
async function probe(path: string, token?: string): Promise<[number, string | null]> {
  const res = await fetch(`${t.hub.url}${path}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  await res.arrayBuffer();
  return [res.status, res.headers.get("X-Error-Code")];
}

describe("not-found codes", () => {
  it("distinguishes a missing repo, revision and file", async () => {
    expect(await probe("/alice/nope/resolve/main/config.json", ALICE)).toEqual([404, "RepoNotFound"]);
    expect(await probe("/alice/nope/resolve/main/config.json")).toEqual([401, "RepoNotFound"]);
    expect(await probe("/alice/public/resolve/no-branch/config.json")).toEqual([404, "RevisionNotFound"]);
    expect(await probe(`/alice/public/resolve/${"0".repeat(40)}/config.json`)).toEqual([
      404,
      "RevisionNotFound",
    ]);
    expect(await probe("/alice/public/resolve/main/missing.json")).toEqual([404, "EntryNotFound"]);
    expect(await probe("/api/models/alice/public/revision/nope")).toEqual([404, "RevisionNotFound"]);
    expect(await probe("/api/models/alice/public/tree/main/no-folder")).toEqual([404, "EntryNotFound"]);
  });

  it("the client maps them: repoExists false, fileExists false, errors carry the status", async () => {
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/nope" })).toBe(false);
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/public" })).toBe(true);
    expect(await fileExists({ hubUrl: t.hub.url, repo: "alice/public", path: "config.json" })).toBe(true);
    expect(await fileExists({ hubUrl: t.hub.url, repo: "alice/public", path: "none.json" })).toBe(false);
    const error = (await modelInfo({ hubUrl: t.hub.url, name: "alice/nope", accessToken: ALICE }).catch(
      (e: unknown) => e,
    )) as HubApiError;
    expect(error.statusCode).toBe(404);
  });
});

describe("private repos", () => {
  it("are visible to their owner and to members of the owning org only", async () => {
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/secret", accessToken: ALICE })).toBe(true);
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/secret", accessToken: BOB })).toBe(false);
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/secret" })).toBe(false);
    expect(await repoExists({ hubUrl: t.hub.url, repo: "acme/org-secret", accessToken: ALICE })).toBe(true);
    expect(await probe("/alice/secret/resolve/main/config.json", BOB)).toEqual([404, "RepoNotFound"]);
    expect(await probe("/alice/secret/resolve/main/config.json")).toEqual([401, "RepoNotFound"]);
  });

  it("become visible when made public", async () => {
    await t.hub.admin.setPrivate("alice/secret", false);
    expect(await repoExists({ hubUrl: t.hub.url, repo: "alice/secret", accessToken: BOB })).toBe(true);
    await t.hub.admin.setPrivate("alice/secret", true);
  });
});

describe("gated repos", () => {
  it("list metadata but serve files only to users who accepted (401 anonymous, 403 others)", async () => {
    const files = [];
    for await (const f of listFiles({ hubUrl: t.hub.url, repo: "alice/gated", accessToken: BOB }))
      files.push(f.path);
    expect(files).toContain("config.json");
    expect(await probe("/alice/gated/resolve/main/config.json")).toEqual([401, "GatedRepo"]);
    expect(await probe("/alice/gated/resolve/main/config.json", BOB)).toEqual([403, "GatedRepo"]);
    expect(await probe("/alice/gated/resolve/main/config.json", ALICE)).toEqual([200, null]);
    const error = (await downloadFile({
      hubUrl: t.hub.url,
      repo: "alice/gated",
      path: "config.json",
      accessToken: BOB,
    })
      .then((b) => b?.text())
      .catch((e: unknown) => e)) as HubApiError;
    expect(error.statusCode).toBe(403);
    await t.hub.admin.acceptGate("alice/gated", "bob");
    expect(await probe("/alice/gated/resolve/main/config.json", BOB)).toEqual([200, null]);
  });
});

describe("writes", () => {
  const file = { path: "new.txt", content: new Blob(["hello"]) };

  it("need a write token of the owner", async () => {
    const attempt = (accessToken: string | undefined) =>
      uploadFile({
        hubUrl: t.hub.url,
        repo: "alice/public",
        file,
        useXet: false,
        ...(accessToken && { accessToken }),
      })
        .then(() => 200)
        .catch((e: HubApiError) => e.statusCode);
    expect(await attempt(undefined)).toBe(401);
    expect(await attempt(BOB)).toBe(403);
    expect(await attempt(READER)).toBe(403);
    expect(await attempt(ALICE)).toBe(200);
  });
});
