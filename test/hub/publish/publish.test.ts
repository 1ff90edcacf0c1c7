/** publishFolder against the local Hub: one atomic commit, refusal, races, lost answers, faults, secrecy. */
import { listCommits, modelInfo } from "@huggingface/hub";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARD_MARKER } from "../../../src/card/render-card.js";
import { HubmergeError } from "../../../src/errors.js";
import { publishFolder, type PublishEvent, type PublishOptions } from "../../../src/hub/publish/publish.js";
import type { RetryOptions } from "../../../src/hub/client/retrying-fetch.js";
import { HubSource } from "../../../src/source/hub-source.js";
import { ALICE, BOB, binaryBytes, startTestHub, type TestHub } from "../../localhub/helpers.js";

let t: TestHub;
let work = "";
const logLines: string[] = [];
const errorsSeen: unknown[] = [];
const fastRetry: RetryOptions = { sleep: async () => undefined, random: () => 0 };
let seed = 100;

beforeAll(async () => {
  // A low threshold: the 120 kB shards go through multipart uploads (40 kB parts).
  t = await startTestHub({
    multipartThreshold: 100_000,
    multipartChunkSize: 40_000,
    log: (l) => logLines.push(l),
  });
  work = await mkdtemp(join(tmpdir(), "publish-test-"));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

/** A finished output folder: fresh shard bytes each time (LFS objects are deduplicated hub-wide). */
async function outputFolder(shards: number, extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(work, "out-"));
  const names =
    shards === 1
      ? ["model.safetensors"]
      : [...Array(shards)].map((_, i) => `model-0000${i + 1}-of-0000${shards}.safetensors`);
  for (const name of names) await writeFile(join(dir, name), binaryBytes(120_000, seed++));
  if (shards > 1)
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: {} }));
  await writeFile(join(dir, "config.json"), '{"model_type":"llama"}\n');
  await writeFile(join(dir, "README.md"), `---\nlibrary_name: transformers\n---\n${CARD_MARKER}\n# Merged\n`);
  const files = [...names, ...(shards > 1 ? ["model.safetensors.index.json"] : [])].map((path) => ({ path }));
  await writeFile(join(dir, "hubmerge.json"), JSON.stringify({ files }));
  for (const [path, text] of Object.entries(extra)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

function publish(repo: string, dir: string, options: Partial<PublishOptions> = {}) {
  return publishFolder({
    hub: { hubUrl: t.hub.url, token: ALICE },
    repo,
    dir,
    private: false,
    overwrite: false,
    commitTitle: "Publish merge",
    retry: fastRetry,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<HubmergeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  errorsSeen.push(error);
  expect(error, "expected a HubmergeError").toBeInstanceOf(HubmergeError);
  return error as HubmergeError;
}

async function commitIds(repo: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const c of listCommits({ repo, hubUrl: t.hub.url, accessToken: ALICE })) ids.push(c.oid);
  return ids;
}

/** Every file of the repo at `sha`, downloaded back. */
async function downloaded(repo: string, sha: string): Promise<Map<string, Buffer>> {
  const source = await HubSource.resolve(
    { raw: repo, kind: "hub", repo, revision: sha },
    { hub: { hubUrl: t.hub.url, token: ALICE }, retry: fastRetry },
  );
  const files = new Map<string, Buffer>();
  for (const path of await source.listFiles()) files.set(path, Buffer.from((await source.readFile(path))!));
  return files;
}

async function localFiles(dir: string): Promise<Map<string, Buffer>> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Map<string, Buffer>();
  for (const e of names.filter((n) => n.isFile())) {
    const path = join(e.parentPath, e.name);
    files.set(path.slice(dir.length + 1), await readFile(path));
  }
  return files;
}

describe("publishFolder", () => {
  it("creates a private repo and puts every file in one commit, multipart for large ones", async () => {
    const dir = await outputFolder(2, { "tokenizer.json": '{"model":{}}' });
    const events: PublishEvent[] = [];
    t.hub.requests.clear();
    const result = await publish("alice/merged", dir, { private: true, onProgress: (e) => events.push(e) });
    expect(result.created).toBe(true);
    expect(result.url).toBe(`${t.hub.url}/alice/merged`);
    const ids = await commitIds("alice/merged");
    expect(ids).toHaveLength(2); // the creation commit and ours
    expect(ids[0]).toBe(result.commitSha);
    const remote = await downloaded("alice/merged", result.commitSha);
    const local = await localFiles(dir);
    expect([...remote.keys()].sort()).toEqual([".gitattributes", ...local.keys()].sort());
    for (const [path, bytes] of local) expect(remote.get(path)!.equals(bytes), path).toBe(true);
    expect(t.hub.requests.matching({ method: "PUT", pathIncludes: "/part/" }).length).toBeGreaterThanOrEqual(
      6,
    );
    expect(t.hub.requests.matching({ method: "POST", pathIncludes: "/commit/" })).toHaveLength(1);
    const info = await modelInfo({ name: "alice/merged", hubUrl: t.hub.url, accessToken: ALICE });
    expect(info.private).toBe(true);
    expect(events.some((e) => e.event === "phase" && e.phase === "committing")).toBe(true);
  });

  it("replaces the previous output, deleting shards that are no longer produced", async () => {
    const first = await publish("alice/evolving", await outputFolder(2));
    await t.hub.admin.commit("alice/evolving", { "images/plot.png": "user file" });
    const second = await publish("alice/evolving", await outputFolder(1));
    expect(second.created).toBe(false);
    expect(second.deleted).toEqual([
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
    const remote = await downloaded("alice/evolving", second.commitSha);
    expect([...remote.keys()].sort()).toEqual([
      ".gitattributes",
      "README.md",
      "config.json",
      "hubmerge.json",
      "images/plot.png",
      "model.safetensors",
    ]);
    expect(second.commitSha).not.toBe(first.commitSha);
  });

  it("refuses a repo that hubmerge did not write unless overwrite is set", async () => {
    await t.hub.admin.createRepo("alice/handmade");
    const before = await t.hub.admin.commit("alice/handmade", {
      "README.md": "# Mine\n",
      "model.safetensors": binaryBytes(1000, 5),
    });
    const dir = await outputFolder(1);
    const error = await failure(publish("alice/handmade", dir));
    expect(error.code).toBe("E_HUB_CONFLICT");
    expect(error.message).toContain("alice/handmade");
    expect(error.hint).toContain("hubmerge.output.overwrite: true");
    expect(await t.hub.admin.head("alice/handmade")).toBe(before);
    const result = await publish("alice/handmade", dir, { overwrite: true });
    expect((await downloaded("alice/handmade", result.commitSha)).get("README.md")!.toString()).toContain(
      CARD_MARKER,
    );
  });

  it("publishes into an existing empty repo without overwrite", async () => {
    await t.hub.admin.createRepo("alice/empty");
    const result = await publish("alice/empty", await outputFolder(1));
    expect(result.created).toBe(false);
  });

  it("two racing publishes: one wins, the other fails with a parentCommit conflict", async () => {
    await t.hub.admin.createRepo("alice/raced");
    const start = await t.hub.admin.head("alice/raced");
    // Both commit POSTs wait until both publishes have read the head and uploaded.
    const waiting: (() => void)[] = [];
    const barrier: typeof fetch = async (input, init) => {
      if (init?.method === "POST" && String(input).includes("/commit/")) {
        await new Promise<void>((go) => {
          waiting.push(go);
          if (waiting.length === 2) waiting.forEach((g) => g());
        });
      }
      return fetch(input, init);
    };
    const outcomes = await Promise.allSettled([
      publish("alice/raced", await outputFolder(1), { fetch: barrier }),
      publish("alice/raced", await outputFolder(1), { fetch: barrier }),
    ]);
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const error = lost[0]!.reason as HubmergeError;
    errorsSeen.push(error);
    expect(error).toBeInstanceOf(HubmergeError);
    expect(error.message).toContain("parentCommit conflict");
    expect(error.message).toContain(start.slice(0, 12));
    expect(error.hint).toContain("re-run");
    expect(await commitIds("alice/raced")).toHaveLength(2);
  });

  it("a failure that cannot be retried (LFS uploads failing for good) leaves no new commit", async () => {
    const first = await publish("alice/faulty", await outputFolder(1));
    t.hub.faults.set([
      { kind: "status500", match: (r) => r.method === "PUT" && r.path.startsWith("/_lfs/") },
    ]);
    try {
      const error = await failure(publish("alice/faulty", await outputFolder(2)));
      expect(error.code).toBe("E_NETWORK");
      expect(error.message).toContain("alice/faulty");
    } finally {
      t.hub.faults.clear();
    }
    expect(await t.hub.admin.head("alice/faulty")).toBe(first.commitSha);
    expect(t.hub.requests.matching({ method: "POST", pathIncludes: "alice/faulty/commit/" })).toHaveLength(1);
  });

  it("completes under a mix of 5xx, 429 and cut connections on the upload and API requests", async () => {
    const dir = await outputFolder(2);
    t.hub.faults.resetCounts();
    t.hub.faults.set([
      { kind: "status503", times: 2, match: { method: "PUT" } },
      { kind: "rate429", rate: 0.15, retryAfterSeconds: 1, match: (r) => !r.path.includes("/commit/") },
      { kind: "status503", rate: 0.15, match: (r) => !r.path.includes("/commit/") },
      { kind: "cutBody", rate: 0.3, match: (r) => r.method === "GET" },
    ]);
    try {
      const result = await publish("alice/stormy", dir);
      expect(t.hub.faults.counts.total).toBeGreaterThan(3);
      expect(
        t.hub.requests.entries.filter((r) => r.method === "PUT" && r.fault === "status503").length,
      ).toBeGreaterThanOrEqual(2);
      const remote = await downloaded("alice/stormy", result.commitSha);
      for (const [path, bytes] of await localFiles(dir))
        expect(remote.get(path)!.equals(bytes), path).toBe(true);
    } finally {
      t.hub.faults.clear();
    }
    expect(await commitIds("alice/stormy")).toHaveLength(2);
  });

  it("a lost commit answer is checked, not blindly retried: the commit lands once", async () => {
    const first = await publish("alice/lost", await outputFolder(1));
    t.hub.faults.set([{ kind: "cutBody", times: 1, match: { method: "POST", pathIncludes: "/commit/" } }]);
    t.hub.faults.resetCounts();
    const cut = await publish("alice/lost", await outputFolder(1)).finally(() => t.hub.faults.clear());
    expect(t.hub.faults.counts.cutBody).toBe(1);
    const ids = await commitIds("alice/lost");
    expect(ids.slice(0, 2)).toEqual([cut.commitSha, first.commitSha]);
    // A 500 before the commit ran: the branch is still at the parent, so one more send is safe.
    t.hub.faults.set([{ kind: "status500", times: 1, match: { method: "POST", pathIncludes: "/commit/" } }]);
    const retried = await publish("alice/lost", await outputFolder(1)).finally(() => t.hub.faults.clear());
    expect(await commitIds("alice/lost")).toEqual([retried.commitSha, ...ids]);
  });

  it("refuses without a write token, or with someone else's", async () => {
    const dir = await outputFolder(1);
    const none = await failure(publish("alice/notoken", dir, { hub: { hubUrl: t.hub.url } }));
    expect(none.code).toBe("E_HUB_AUTH");
    expect(none.hint).toContain("HF_TOKEN");
    const bob = await failure(publish("alice/bobs-attempt", dir, { hub: { hubUrl: t.hub.url, token: BOB } }));
    expect(bob.code).toBe("E_HUB_AUTH");
    expect(bob.format()).not.toContain(BOB);
    expect((await failure(publish("no-owner", dir))).code).toBe("E_USAGE");
  });

  it("refuses to make a public repo's content the private output the manifest asks for", async () => {
    await t.hub.admin.createRepo("alice/public-one");
    const error = await failure(publish("alice/public-one", await outputFolder(1), { private: true }));
    expect(error.code).toBe("E_HUB_CONFLICT");
    expect(error.hint).toContain("private");
  });

  it("refuses to publish a folder that contains the token", async () => {
    const dir = await outputFolder(1, { "notes.txt": `token=${ALICE}` });
    const error = await failure(publish("alice/leaky", dir));
    expect(error.code).toBe("E_USAGE");
    expect(error.message).toContain("notes.txt");
    expect(() => t.hub.admin.head("alice/leaky")).toThrow(/no repository/);
  });

  it("the token appears in no error, no log line, no request record and no published file", async () => {
    expect(errorsSeen.length).toBeGreaterThan(5);
    for (const error of errorsSeen) {
      const e = error as HubmergeError;
      expect(`${e.message} ${e.hint} ${e.stack} ${e.format?.()}`).not.toContain(ALICE);
    }
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join("\n")).not.toContain(ALICE);
    expect(JSON.stringify(t.hub.requests.entries)).not.toContain(ALICE);
    for (const repo of ["alice/merged", "alice/evolving", "alice/stormy"]) {
      const head = await t.hub.admin.head(repo);
      for (const [path, bytes] of await downloaded(repo, head))
        expect(bytes.includes(ALICE), path).toBe(false);
    }
  });
});
