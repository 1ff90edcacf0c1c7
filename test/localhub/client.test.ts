/** The unmodified @huggingface/hub client against the local hub: the round trips hubmerge relies on. */
import {
  commit,
  createRepo,
  downloadFile,
  fileDownloadInfo,
  listCommits,
  listFiles,
  modelInfo,
  pathsInfo,
  uploadFiles,
  whoAmI,
  type HubApiError,
} from "@huggingface/hub";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
let auth: { hubUrl: string; accessToken: string };
const weights = binaryBytes(300_000, 7);
const smallWeights = binaryBytes(5_000, 3);
const readme =
  "---\nlicense: apache-2.0\nlibrary_name: transformers\ntags: [merge]\nbase_model: [a/b, c/d]\n---\n# Model\n";

beforeAll(async () => {
  // A low threshold so the 300 kB file goes through the multipart path (3 parts of 100 kB + rest).
  t = await startTestHub({ multipartThreshold: 200_000, multipartChunkSize: 100_000 });
  auth = { hubUrl: t.hub.url, accessToken: ALICE };
});
afterAll(() => t.stop());

async function rejection(promise: Promise<unknown>): Promise<HubApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected the call to fail").toBeDefined();
  return error as HubApiError;
}

describe("identity and repos", () => {
  it("whoAmI returns the token's user and orgs; a bad token is 401", async () => {
    const me = await whoAmI(auth);
    expect(me.name).toBe("alice");
    expect(me.type).toBe("user");
    if (me.type === "user") expect(me.orgs.map((o) => o.name)).toEqual(["acme"]);
    expect(me.auth.accessToken?.role).toBe("write");
    const error = await rejection(whoAmI({ hubUrl: t.hub.url, accessToken: "hf_not_a_known_token" }));
    expect(error.statusCode).toBe(401);
  });

  it("createRepo makes an initial .gitattributes commit and answers 409 the second time", async () => {
    const created = await createRepo({ ...auth, repo: "alice/created" });
    expect(created.repoUrl).toBe(`${t.hub.url}/alice/created`);
    const files = [];
    for await (const file of listFiles({ ...auth, repo: "alice/created" })) files.push(file.path);
    expect(files).toEqual([".gitattributes"]);
    expect((await rejection(createRepo({ ...auth, repo: "alice/created" }))).statusCode).toBe(409);
  });

  it("refuses to create a repo in someone else's namespace", async () => {
    expect(
      (await rejection(createRepo({ hubUrl: t.hub.url, accessToken: BOB, repo: "alice/x" }))).statusCode,
    ).toBe(403);
  });
});

describe("upload, then read back", () => {
  let sha = "";

  beforeAll(async () => {
    await createRepo({ ...auth, repo: "alice/model" });
    const result = await uploadFiles({
      ...auth,
      repo: "alice/model",
      useXet: false,
      commitTitle: "Add model",
      files: [
        { path: "README.md", content: new Blob([readme]) },
        { path: "config.json", content: new Blob(['{"hidden_size": 8}']) },
        { path: "model.safetensors", content: new Blob([weights]) },
        { path: "sub/small.safetensors", content: new Blob([smallWeights]) },
      ],
    });
    sha = result?.commit.oid ?? "";
  });

  it("stored small files as regular files and weights as LFS (single and multipart PUT)", async () => {
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const multipartParts = t.hub.requests.matching({ method: "PUT", pathIncludes: "/part/" });
    expect(multipartParts).toHaveLength(3);
    expect(t.hub.requests.matching({ method: "POST", pathIncludes: "/complete" })).toHaveLength(1);
    const singlePuts = t.hub.requests
      .matching({ method: "PUT", pathIncludes: "/_lfs/" })
      .filter((r) => !r.path.includes("/part/"));
    expect(singlePuts).toHaveLength(1);
    const entries = [];
    for await (const entry of listFiles({ ...auth, repo: "alice/model", recursive: true }))
      entries.push(entry);
    const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
    expect(Object.keys(byPath).sort()).toEqual([
      ".gitattributes",
      "README.md",
      "config.json",
      "model.safetensors",
      "sub",
      "sub/small.safetensors",
    ]);
    expect(byPath["config.json"]?.lfs).toBeUndefined();
    expect(byPath["sub"]?.type).toBe("directory");
    expect(byPath["model.safetensors"]?.lfs?.oid).toBe(createHash("sha256").update(weights).digest("hex"));
    expect(byPath["model.safetensors"]?.size).toBe(weights.byteLength);
  });

  it("downloads exact bytes, whole and sliced", async () => {
    const blob = await downloadFile({ ...auth, repo: "alice/model", path: "model.safetensors" });
    expect(blob).not.toBeNull();
    expect(Buffer.from(await blob!.arrayBuffer()).equals(Buffer.from(weights))).toBe(true);
    const slice = new Uint8Array(await blob!.slice(1000, 1016).arrayBuffer());
    expect([...slice]).toEqual([...weights.subarray(1000, 1016)]);
    const ranges = t.hub.requests.matching({ pathIncludes: "model.safetensors" }).map((r) => r.range);
    expect(ranges).toContain("bytes=1000-1015");
    const config = await downloadFile({ ...auth, repo: "alice/model", path: "config.json" });
    expect(await config!.text()).toBe('{"hidden_size": 8}');
  });

  it("modelInfo reports sha, card data and files (siblings)", async () => {
    // The typed way to ask for siblings is "filePaths" (the client sends expand=siblings).
    const info = await modelInfo({
      ...auth,
      name: "alice/model",
      additionalFields: ["sha", "cardData", "filePaths"],
    });
    expect(info.name).toBe("alice/model");
    expect(info.private).toBe(false);
    expect(info.sha).toBe(sha);
    expect(info.cardData).toMatchObject({ license: "apache-2.0", base_model: ["a/b", "c/d"] });
    expect(info.filePaths).toContain("sub/small.safetensors");
  });

  it("answers only _id, id and the expanded keys when expand is given", async () => {
    const res = await fetch(`${t.hub.url}/api/models/alice/model?expand=siblings&expand[]=sha`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["_id", "id", "sha", "siblings"]);
    expect(body.siblings).toContainEqual({ rfilename: "config.json" });
    const full = (await (await fetch(`${t.hub.url}/api/models/alice/model`)).json()) as Record<
      string,
      unknown
    >;
    expect(full).toMatchObject({ id: "alice/model", sha, library_name: "transformers", gated: false });
  });

  it("fileDownloadInfo gives size and etag (sha256 for LFS, blob sha1 otherwise); null when missing", async () => {
    const lfs = await fileDownloadInfo({ ...auth, repo: "alice/model", path: "model.safetensors" });
    expect(lfs?.size).toBe(weights.byteLength);
    expect(lfs?.etag).toBe(`"${createHash("sha256").update(weights).digest("hex")}"`);
    const regular = await fileDownloadInfo({ ...auth, repo: "alice/model", path: "config.json" });
    const blobSha1 = createHash("sha1").update('blob 18\0{"hidden_size": 8}').digest("hex");
    expect(regular?.etag).toBe(`"${blobSha1}"`);
    expect(await fileDownloadInfo({ ...auth, repo: "alice/model", path: "missing.bin" })).toBeNull();
  });

  it("pathsInfo and listCommits describe the same history", async () => {
    const info = await pathsInfo({
      ...auth,
      repo: "alice/model",
      paths: ["config.json", "sub", "nope"],
      expand: true,
    });
    expect(info.map((i) => [i.path, i.type])).toEqual([
      ["config.json", "file"],
      ["sub", "directory"],
    ]);
    expect(info[0]?.lastCommit?.id).toBe(sha);
    const commits = [];
    for await (const c of listCommits({ ...auth, repo: "alice/model" })) commits.push(c);
    expect(commits.map((c) => c.title)).toEqual(["Add model", "initial commit"]);
    expect(commits[0]?.oid).toBe(sha);
  });

  it("rejects a commit whose parentCommit is stale, and accepts the current one", async () => {
    const first = commits0(await collect(listCommits({ ...auth, repo: "alice/model" })));
    const error = await rejection(
      commit({
        ...auth,
        repo: "alice/model",
        title: "stale",
        parentCommit: first,
        operations: [{ operation: "addOrUpdate", path: "x.txt", content: new Blob(["x"]) }],
      }),
    );
    expect(error.statusCode).toBe(412);
    expect(error.message).toMatch(/A commit has happened since/);
    const ok = await commit({
      ...auth,
      repo: "alice/model",
      title: "fresh",
      parentCommit: sha,
      operations: [{ operation: "delete", path: "sub/small.safetensors" }],
    });
    expect(ok?.commit.oid).toMatch(/^[0-9a-f]{40}$/);
    sha = ok!.commit.oid;
  });

  it("reads old revisions by sha and new branches by name", async () => {
    const history = await collect(listCommits({ ...auth, repo: "alice/model" }));
    const addModel = history.find((c) => c.title === "Add model")!.oid;
    const old = await fileDownloadInfo({
      ...auth,
      repo: "alice/model",
      path: "sub/small.safetensors",
      revision: addModel,
    });
    expect(old?.size).toBe(smallWeights.byteLength);
    expect(
      await fileDownloadInfo({ ...auth, repo: "alice/model", path: "sub/small.safetensors" }),
    ).toBeNull();
    await t.hub.admin.createBranch("alice/model", "dev", addModel);
    const info = await modelInfo({
      ...auth,
      name: "alice/model",
      revision: "dev",
      additionalFields: ["sha"],
    });
    expect(info.sha).toBe(addModel);
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The oldest commit's id. */
function commits0(commits: { oid: string }[]): string {
  return commits[commits.length - 1]!.oid;
}
