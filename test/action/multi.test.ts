import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyManifest } from "../../src/action/apply.js";
import { assessManifest } from "../../src/action/assess.js";
import { emptyLockfile, parseLockfile, serializeLockfile } from "../../src/lock/lockfile.js";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { hubSession } from "../../src/session.js";
import { seedFamilyOnHub } from "../support/hub-models.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const TOKEN = "hf_acme_multi_action_token_0123";
let hub: LocalHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

// The final merge first, as users write them; `blend` is published to its own repo.
const MULTI = `merge_method: linear
models:
  - model: acme/base
    parameters: {weight: 0.5}
  - model: blend
    parameters: {weight: 0.5}
hubmerge: {output: {repo: acme/final}}
---
name: blend
merge_method: task_arithmetic
base_model: acme/base
models:
  - model: acme/ft1
    parameters: {weight: 0.5}
  - model: acme/ft2
    parameters: {weight: 0.5}
hubmerge: {output: {repo: acme/blend}}
`;

describe("the Action on a mergekit-multi file", () => {
  it("assesses the file as one unit, publishes every merge and locks each intermediate", async () => {
    const root = await tempDir();
    hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: TOKEN, user: "acme" }] });
    await seedFamilyOnHub(hub, join(root, "models"));
    const session = hubSession({ hubUrl: hub.url, token: TOKEN });
    const file = await writeManifest(root, MULTI, "multi.yaml");

    const first = await assessManifest(file, { session, lock: emptyLockfile(), force: false, deep: true });
    expect(first.error).toBeUndefined();
    expect(Object.keys(first.sources)).toEqual(["acme/base", "acme/ft1", "acme/ft2"]);
    expect(first.decision?.needed).toBe(true);
    expect(first.manifest?.hubmerge.output?.repo).toBe("acme/final");
    expect(first.inputBytes).toBeGreaterThan(0);

    const { result, entry } = await applyManifest(first, {
      session,
      backend: "reference",
      tempDir: join(root, "tmp"),
      signal: new AbortController().signal,
    });
    expect(result).toMatchObject({
      status: "published",
      repo: "acme/final",
      commit: hub.admin.head("acme/final"),
    });
    expect(entry!.manifestSha256).toBe(first.manifestSha256);
    expect(entry!.sources).toEqual({
      "acme/base": hub.admin.head("acme/base"),
      "acme/ft1": hub.admin.head("acme/ft1"),
      "acme/ft2": hub.admin.head("acme/ft2"),
    });
    expect(entry!.intermediates!["blend"]).toMatchObject({
      repo: "acme/blend",
      commit: hub.admin.head("acme/blend"),
    });
    expect(Object.keys(entry!.intermediates!["blend"]!.files)).toContain("model.safetensors");

    // The lock round-trips, and with it the next run finds nothing to do.
    const lock = parseLockfile(serializeLockfile({ version: 1, manifests: { [file]: entry! } }));
    const again = await assessManifest(file, { session, lock, force: false, deep: false });
    expect(again.decision?.needed).toBe(false);
  });
});
