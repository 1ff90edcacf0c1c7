import { listFiles } from "@huggingface/hub";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyManifest } from "../../src/action/apply.js";
import { assessManifest, type Assessment } from "../../src/action/assess.js";
import { requireApplyInputs, type ActionInputs } from "../../src/action/inputs.js";
import { applyMatrix } from "../../src/action/matrix.js";
import { applyPart, manifestSlug, publishParts } from "../../src/action/parts.js";
import { emptyLockfile } from "../../src/lock/lockfile.js";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { AUTO_PART_BYTES, partCount, readManifest } from "../../src/pipeline/index.js";
import { hubSession } from "../../src/session.js";
import { FAMILY_MANIFEST, seedFamilyOnHub } from "../support/hub-models.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const TOKEN = "hf_acme_fanout_action_token_01";
/** Small shards, so that the tiny test model has several and can be split. */
const SHARD = 6000;
let hub: LocalHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const withParts = (parts: string) => FAMILY_MANIFEST.replace("  seed: 5\n", `  seed: 5\n  parts: ${parts}\n`);

async function setUp(manifest: string) {
  const root = await tempDir();
  hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: TOKEN, user: "acme" }] });
  await seedFamilyOnHub(hub, join(root, "models"));
  const session = hubSession({ hubUrl: hub.url, token: TOKEN });
  const file = await writeManifest(root, manifest);
  const assess = (deep: boolean) =>
    assessManifest(file, { session, lock: emptyLockfile(), force: false, deep, maxShardBytes: SHARD });
  return { root, hub, session, file, assess };
}

async function tree(hubUrl: string, repo: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const f of listFiles({ repo, hubUrl, accessToken: TOKEN }))
    files[f.path] = f.lfs?.oid ?? f.oid ?? "";
  return files;
}

describe("hubmerge: {parts}", () => {
  it("counts parts: one by default, about 20 GB each for auto, never more than the shards", () => {
    expect(partCount(undefined, { outputBytes: 140e9, shards: 30 })).toBe(1);
    expect(partCount("auto", { outputBytes: 140e9, shards: 30 })).toBe(7);
    expect(partCount("auto", { outputBytes: AUTO_PART_BYTES + 1, shards: 30 })).toBe(2);
    expect(partCount("auto", { outputBytes: 1e9, shards: 1 })).toBe(1);
    expect(partCount(5, { outputBytes: 1e9, shards: 3 })).toBe(3);
    expect(partCount(2, { outputBytes: 1e9, shards: 3 })).toBe(2);
  });

  it("reads auto or a positive integer, and refuses anything else", async () => {
    const read = (parts: string) => readManifest({ text: withParts(parts), path: "merge.yaml" });
    expect((await read("auto")).manifest.hubmerge.parts).toBe("auto");
    expect((await read("3")).manifest.hubmerge.parts).toBe(3);
    expect((await readManifest({ text: FAMILY_MANIFEST, path: "m.yaml" })).manifest.hubmerge.parts).toBe(
      undefined,
    );
    for (const bad of ["0", "-1", "2.5", "many"]) {
      await expect(read(bad), bad).rejects.toMatchObject({ code: "E_MANIFEST" });
    }
  });

  it("the apply inputs need pins with a part, and a parts folder to publish", () => {
    const inputs = { mode: "apply", hfToken: "x" } as ActionInputs;
    expect(() => requireApplyInputs({ ...inputs, part: "1/2" })).toThrow(/input pins is empty/);
    expect(() => requireApplyInputs({ ...inputs, mode: "publish" })).toThrow(/parts-dir is empty/);
    expect(() => requireApplyInputs({ ...inputs, part: "1/2", pins: "{}" })).not.toThrow();
  });
});

describe("the Action fans a split merge out and publishes it in one commit", () => {
  it("keeps the one-entry matrix for a manifest without parts", async () => {
    const { file, assess } = await setUp(FAMILY_MANIFEST);
    const planned = await assess(true);
    expect(planned.shardCount).toBeGreaterThan(1);
    expect(applyMatrix([planned])).toEqual({ include: [{ manifest: file }] });
  });

  it("plans parts, runs each, publishes once with the files of a one-runner publish", async () => {
    const { root, hub, session, file, assess } = await setUp(withParts("3"));
    const planned = await assess(true);
    const { include } = applyMatrix([planned]);
    expect(include.map((e) => e.part)).toEqual(["1/3", "2/3", "3/3"]);
    const pins = JSON.parse(include[0]!.pins!);
    expect(pins.manifest.sha256).toBe(planned.manifestSha256);
    expect(pins.sources).toContainEqual({ ref: "acme/ft1", revision: hub.admin.head("acme/ft1") });

    const receiptsDir = join(root, "receipts");
    const signal = new AbortController().signal;
    for (const entry of include) {
      // Each matrix job assesses on its own (not deep) and merges its part.
      const job = await assess(false);
      const result = await applyPart(job, {
        session,
        backend: "reference",
        tempDir: join(root, `tmp-${entry.part!.replace("/", "-")}`),
        signal,
        part: entry.part!,
        pins: entry.pins!,
        receiptsDir,
        maxShardBytes: SHARD,
      });
      expect(result).toMatchObject({ status: "uploaded", part: entry.part, repo: "acme/merged" });
    }
    expect((await readdir(join(receiptsDir, manifestSlug(file)))).sort()).toEqual([
      "hubmerge-part-00001-of-00003.json",
      "hubmerge-part-00002-of-00003.json",
      "hubmerge-part-00003-of-00003.json",
    ]);
    const before = hub.admin.head("acme/merged");

    const published = await publishParts(await assess(false), { session, signal, partsDir: receiptsDir });
    expect(published?.result).toMatchObject({ status: "published", commit: hub.admin.head("acme/merged") });
    expect(hub.admin.head("acme/merged")).not.toBe(before);
    expect(published!.entry!.manifestSha256).toBe(planned.manifestSha256);
    expect(published!.entry!.sources["acme/ft2"]).toBe(hub.admin.head("acme/ft2"));
    const files = await tree(hub.url, "acme/merged");
    // A one-runner apply of the same manifest into another repo has the same files and shards.
    const whole = await writeManifest(
      root,
      FAMILY_MANIFEST.replace("acme/merged", "acme/whole"),
      "whole.yaml",
    );
    const one = await assessManifest(whole, { session, lock: emptyLockfile(), force: false, deep: false });
    const oneRun = await applyManifestWithShards(one, root, session);
    expect(oneRun.result.status).toBe("published");
    // The lock names the same weights with the same digests: the shards and index are the same bytes.
    expect(published!.entry!.output?.files).toEqual(oneRun.entry!.output?.files);
    const wholeFiles = await tree(hub.url, "acme/whole");
    expect(Object.keys(files).sort()).toEqual(Object.keys(wholeFiles).sort());
    for (const name of Object.keys(files).filter((f) => f.endsWith(".safetensors"))) {
      expect(files[name], name).toBe(wholeFiles[name]);
    }
  }, 60_000);

  it("refuses a missing part and commits nothing; re-running the failed part reuses its uploads", async () => {
    const { root, hub, session, file, assess } = await setUp(withParts("2"));
    const { include } = applyMatrix([await assess(true)]);
    const receiptsDir = join(root, "receipts");
    const signal = new AbortController().signal;
    const result = await applyPart(await assess(false), {
      session,
      backend: "reference",
      tempDir: join(root, "tmp"),
      signal,
      part: include[0]!.part!,
      pins: include[0]!.pins!,
      receiptsDir,
      maxShardBytes: SHARD,
    });
    expect(result.status).toBe("uploaded");
    const before = hub.admin.head("acme/merged");
    const published = await publishParts(await assess(false), { session, signal, partsDir: receiptsDir });
    expect(published?.result).toMatchObject({ status: "failed", error: expect.stringMatching(/missing/) });
    expect(published?.entry).toBeUndefined();
    expect(hub.admin.head("acme/merged")).toBe(before);
    expect(
      JSON.parse(
        await readFile(join(receiptsDir, manifestSlug(file), "hubmerge-part-00001-of-00002.json"), "utf8"),
      ).part,
    ).toEqual({ index: 1, count: 2 });

    // Re-running the failed jobs: part 1 again on a fresh runner sends nothing (its objects are
    // on the Hub), part 2 runs, and the publish goes through.
    hub.requests.clear();
    const again = (i: number, tmp: string) =>
      assess(false).then((job) =>
        applyPart(job, {
          session,
          backend: "reference",
          tempDir: join(root, tmp),
          signal,
          part: include[i]!.part!,
          pins: include[i]!.pins!,
          receiptsDir,
          maxShardBytes: SHARD,
        }),
      );
    expect(await again(0, "rerun-1")).toMatchObject({ status: "uploaded" });
    expect(hub.requests.matching({ method: "PUT", pathIncludes: "/_lfs/" })).toHaveLength(0);
    expect(await again(1, "rerun-2")).toMatchObject({ status: "uploaded" });
    const retried = await publishParts(await assess(false), { session, signal, partsDir: receiptsDir });
    expect(retried?.result).toMatchObject({ status: "published", commit: hub.admin.head("acme/merged") });

    const other: Assessment = { file: "merges/other.yaml", sources: {} };
    expect(await publishParts(other, { session, signal, partsDir: receiptsDir })).toBeUndefined();
  }, 60_000);

  it("fails a part whose pins are of another manifest version, or whose part is not I/N", async () => {
    const { root, session, assess } = await setUp(withParts("2"));
    const { include } = applyMatrix([await assess(true)]);
    const pins = JSON.parse(include[0]!.pins!);
    pins.manifest.sha256 = "0".repeat(64);
    const run = (part: string, pinsText: string) =>
      assess(false).then((job) =>
        applyPart(job, {
          session,
          backend: "reference",
          tempDir: join(root, "tmp"),
          signal: new AbortController().signal,
          part,
          pins: pinsText,
          receiptsDir: join(root, "receipts"),
          maxShardBytes: SHARD,
        }),
      );
    expect(await run("1/2", JSON.stringify(pins))).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/another version/),
    });
    expect(await run("3/2", include[0]!.pins!)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/I\/N/),
    });
    expect(await run("1/2", "not json")).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/pins/),
    });
  }, 60_000);
});

async function applyManifestWithShards(a: Assessment, root: string, session: ReturnType<typeof hubSession>) {
  return applyManifest(a, {
    session,
    backend: "reference",
    tempDir: join(root, "tmp-whole"),
    maxShardBytes: SHARD,
    signal: new AbortController().signal,
  });
}
