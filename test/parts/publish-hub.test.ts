import { listFiles } from "@huggingface/hub";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubSession } from "../../src/session.js";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import {
  assembleParts,
  closeModels,
  mergeAndPublish,
  pinsOf,
  planRun,
  runPart,
  type Pins,
} from "../../src/pipeline/index.js";
import { FAMILY_MANIFEST, seedFamilyOnHub } from "../support/hub-models.js";
import { writeManifest } from "../support/models.js";

const TOKEN = "hf_acme_parts_token_0123456789";
const SHARD = 6000;
/** Shards above this go up in parts of half its size: the multipart path is exercised too. */
const MULTIPART = 4096;
const FAST_RETRY = { retries: 1, baseDelayMs: 1, maxDelayMs: 2 };
let hub: LocalHub;
let root: string;
let manifestPath: string;

const isUpload = (r: { method: string; path: string }) => r.method === "PUT" && r.path.startsWith("/_lfs/");
const session = () => hubSession({ hubUrl: hub.url, token: TOKEN });
const publish = () => ({ hub: session().hub, retry: FAST_RETRY });

async function tree(repo: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const f of listFiles({ repo, hubUrl: hub.url, accessToken: TOKEN })) {
    files[f.path] = f.lfs?.oid ?? f.oid ?? "";
  }
  return files;
}

async function mergePushed(out: string) {
  return mergeAndPublish({
    manifestPath,
    out,
    force: true,
    maxShardBytes: SHARD,
    resolver: session().resolver,
    hubUrl: hub.url,
    publish: publish(),
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hubmerge-parts-hub-"));
  hub = await startLocalHub({
    dir: join(root, "hub"),
    tokens: [{ token: TOKEN, user: "acme" }],
    multipartThreshold: MULTIPART,
  });
  await seedFamilyOnHub(hub, join(root, "models"));
  manifestPath = await writeManifest(root, FAMILY_MANIFEST);
}, 120_000);

afterAll(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

describe("merge --push uploads shards while merging", () => {
  it("leaves the repo unchanged when an upload fails mid-way, and the next run reuses what was uploaded", async () => {
    const created = await hub.admin.createRepo("acme/merged");
    let first: string | undefined;
    // The first shard's parts go through; every upload of another object fails (past the retries).
    const oidOf = (path: string) => path.split("/")[2];
    hub.faults.set([
      { kind: "status503", match: (r) => isUpload(r) && (first ??= oidOf(r.path)) !== oidOf(r.path) },
    ]);
    const failure = await mergePushed(join(root, "failed")).catch((e: unknown) => e);
    hub.faults.clear();
    expect(failure).toMatchObject({ code: "E_NETWORK", message: expect.stringMatching(/HTTP 503/) });
    expect((failure as { hint: string }).hint).toMatch(/nothing was committed/);
    expect(hub.admin.head("acme/merged")).toBe(created);
    expect(Object.keys(await tree("acme/merged"))).toEqual([".gitattributes"]);

    hub.requests.clear();
    const { published, uploads: stats, merged } = await mergePushed(join(root, "ok"));
    const shards = merged.plan.shards.files.length;
    expect(shards).toBeGreaterThanOrEqual(5);
    expect(stats.present).toBeGreaterThanOrEqual(1);
    expect(stats.uploaded + stats.present).toBe(shards);
    // Only the shards the Hub lacked were sent again (multipart: two PUTs per shard here).
    const sent = hub.requests.entries.filter(isUpload).length;
    expect(sent).toBeGreaterThan(0);
    expect(stats.uploaded).toBeLessThan(shards);
    expect(hub.admin.head("acme/merged")).toBe(published.commitSha);
    const files = await tree("acme/merged");
    for (const shard of merged.record.files.filter((f) => f.path.endsWith(".safetensors"))) {
      expect(files[shard.path]).toBe(shard.sha256);
    }

    // A third run with the same bytes uploads nothing at all.
    hub.requests.clear();
    const again = await mergePushed(join(root, "again"));
    expect(again.uploads).toEqual({ uploaded: 0, present: shards });
    expect(hub.requests.entries.filter(isUpload)).toHaveLength(0);
  }, 120_000);
});

describe("parts through the Hub", () => {
  let pins: Pins;
  let oneRunner: Record<string, string>;

  beforeAll(async () => {
    // The one-runner publish of the same manifest is what the parts must reproduce.
    await mergePushed(join(root, "one-runner"));
    oneRunner = await tree("acme/merged");
    // Emptied again, so that the parts' commit alone must bring every file back.
    const emptied = Object.fromEntries(
      Object.keys(oneRunner)
        .filter((path) => path !== ".gitattributes")
        .map((path) => [path, null]),
    );
    await hub.admin.commit("acme/merged", emptied, "empty the repo");
    const planned = await planRun({ manifestPath, resolver: session().resolver, maxShardBytes: SHARD });
    await closeModels(planned.models);
    pins = pinsOf(planned);
  }, 120_000);

  async function pushParts(dir: string, count: number, skip?: number): Promise<void> {
    for (let index = 1; index <= count; index++) {
      await runPart({
        manifestPath,
        out: join(dir, `part-${index}`),
        part: { index, count },
        pins,
        maxShardBytes: SHARD,
        resolver: session().resolver,
        publish: index === skip ? undefined : publish(),
      });
    }
  }

  it("publishes one commit with exactly the files of a one-runner publish", async () => {
    const dir = join(root, "hub-parts-3");
    await pushParts(dir, 3);
    const before = hub.admin.head("acme/merged");
    const { published } = await assembleParts({
      manifestPath,
      partsDir: dir,
      resolver: session().resolver,
      hubUrl: hub.url,
      publish: publish(),
    });
    expect(published!.commitSha).not.toBe(before);
    expect(hub.admin.head("acme/merged")).toBe(published!.commitSha);
    expect(await tree("acme/merged")).toEqual(oneRunner);

    // Re-running the fan-out finds every part done: nothing is merged or uploaded again.
    hub.requests.clear();
    await pushParts(dir, 3);
    expect(hub.requests.entries.filter(isUpload)).toHaveLength(0);
    expect(hub.requests.matching({ method: "GET", pathIncludes: ".safetensors" })).toHaveLength(0);
  }, 120_000);

  it("refuses a receipt whose object is not on the Hub, and commits nothing", async () => {
    // A fresh output repo, and another seed: the Hub holds none of these shards yet.
    const text = FAMILY_MANIFEST.replace("acme/merged", "acme/fresh").replace("seed: 5", "seed: 6");
    const other = await writeManifest(root, text, "fresh.yaml");
    const planned = await planRun({
      manifestPath: other,
      resolver: session().resolver,
      maxShardBytes: SHARD,
    });
    await closeModels(planned.models);
    const dir = join(root, "hub-parts-missing");
    for (let index = 1; index <= 2; index++) {
      await runPart({
        manifestPath: other,
        out: join(dir, `part-${index}`),
        part: { index, count: 2 },
        pins: pinsOf(planned),
        maxShardBytes: SHARD,
        resolver: session().resolver,
        // Part 2 ran without --push: its shards never reached the Hub.
        publish: index === 2 ? undefined : publish(),
      });
    }
    const head = hub.admin.head("acme/fresh");
    await expect(
      assembleParts({ manifestPath: other, partsDir: dir, resolver: session().resolver, publish: publish() }),
    ).rejects.toThrow(/not on the Hub as LFS objects/);
    expect(hub.admin.head("acme/fresh")).toBe(head);
  }, 120_000);
});
