import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { writeTinyLlama } from "../../src/synth/tiny-llama.js";
import { runAction } from "../support/action-runner.js";
import {
  pullRequestEvent,
  pushEvent,
  repositoryDispatchEvent,
  scheduleEvent,
  startLocalGitHub,
  type LocalGitHub,
} from "../support/github/index.js";
import { FAMILY_MANIFEST, seedFamilyOnHub, seedHubModel } from "../support/hub-models.js";
import { TEST_LLAMA } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const HF_TOKEN = "hf_acme_writer_token_123456";
const GH_TOKEN = "ghs_local_action_token";
const REPO = "acme/merges";
const MANIFEST = FAMILY_MANIFEST;

let hub: LocalHub;
let github: LocalGitHub;
let models: string;

beforeEach(async () => {
  const root = await tempDir();
  models = join(root, "models");
  hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: HF_TOKEN, user: "acme" }] });
  github = await startLocalGitHub({ tokens: [GH_TOKEN] });
  await seedFamilyOnHub(hub, models);
});

afterEach(async () => {
  await Promise.all([hub.close(), github.close()]);
});

/** A checkout of the merges repo: the workspace the Action runs in. */
async function checkout(files: Record<string, string>): Promise<{ workspace: string; sha: string }> {
  const workspace = await tempDir();
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(workspace, path, ".."), { recursive: true });
    await writeFile(join(workspace, path), text);
  }
  return { workspace, sha: github.seedRepo(REPO, { files }) };
}

async function action(
  workspace: string,
  event: Parameters<typeof runAction>[0]["event"],
  inputs: Record<string, string>,
) {
  return runAction({
    workspace,
    runnerDir: await tempDir(),
    event,
    apiUrl: github.url,
    inputs: { "hub-url": hub.url, "github-token": GH_TOKEN, ...inputs },
  });
}

describe("the GitHub Action (dist/index.js)", () => {
  it("plans on a pull request: one sticky comment, updated on the next push", async () => {
    const { workspace, sha: base } = await checkout({ "README.md": "merges\n" });
    const sha = github.seedRepo(REPO, { files: { "merges/demo.yaml": MANIFEST }, branch: "add" });
    await mkdir(join(workspace, "merges"), { recursive: true });
    await writeFile(join(workspace, "merges", "demo.yaml"), MANIFEST);
    const pull = github.openPull(REPO, { title: "Add a merge", head: "add", base: "main" });
    const event = pullRequestEvent({
      repo: REPO,
      number: pull.number,
      head: { ref: "add", sha },
      base: { ref: "main", sha: base },
    });
    const first = await action(workspace, event, {});
    expect(first.stdout).not.toContain("::error");
    expect(first.code).toBe(0);
    expect(first.outputs["has-work"]).toBe("true");
    expect(JSON.parse(first.outputs["matrix"]!)).toEqual({ include: [{ manifest: "merges/demo.yaml" }] });
    expect(first.summary).toContain("## hubmerge plan");
    expect(first.summary).toContain("| `merges/demo.yaml` | 🔄 will merge | `acme/merged` |");
    expect(first.summary).toMatch(/\| MODEL \| TENSORS \| COSINE/); // the compatibility table
    const second = await action(workspace, event, {});
    expect(second.code).toBe(0);
    const comments = github.comments(REPO, pull.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("hubmerge plan");
    expect(hub.requests.matching({ pathIncludes: "/commit/" })).toHaveLength(0); // plan never publishes
  });

  it("applies on push: creates the repo, publishes, commits the lock; a quiet schedule then does nothing", async () => {
    const { workspace, sha } = await checkout({ "merges/demo.yaml": MANIFEST });
    const applied = await action(workspace, pushEvent({ repo: REPO, after: sha }), { "hf-token": HF_TOKEN });
    // The runner hides masked values; apart from the mask command itself the token never shows.
    expect(applied.stdout.replace(/^::add-mask::.*$/gm, "")).not.toContain(HF_TOKEN);
    expect(applied.code).toBe(0);
    const results = JSON.parse(applied.outputs["results"]!);
    expect(results).toEqual([
      expect.objectContaining({ manifest: "merges/demo.yaml", status: "published", repo: "acme/merged" }),
    ]);
    const lock = JSON.parse(github.readFile(REPO, "hubmerge.lock.json")!);
    const entry = lock.manifests["merges/demo.yaml"];
    expect(entry.output.commit).toBe(hub.admin.head("acme/merged"));
    expect(entry.sources["acme/ft1"]).toBe(hub.admin.head("acme/ft1"));
    expect(github.commits(REPO)[0]!.message).toMatch(/^hubmerge: lock acme\/merged/);
    expect(await readFile(join(workspace, "hubmerge.lock.json"), "utf8")).toBe(
      github.readFile(REPO, "hubmerge.lock.json"),
    );
    // The attestation subjects: every published shard, named by repo and file, with the sha256 of
    // the bytes the Hub serves (attest-build-provenance's subject-checksums format).
    const shards = Object.keys(entry.output.files).filter((path) => path.endsWith(".safetensors"));
    expect(shards.length).toBeGreaterThan(0);
    const subjects = [];
    for (const path of shards.sort()) {
      const served = await fetch(`${hub.url}/acme/merged/resolve/${entry.output.commit}/${path}`, {
        headers: { authorization: `Bearer ${HF_TOKEN}` },
      });
      const hex = createHash("sha256")
        .update(new Uint8Array(await served.arrayBuffer()))
        .digest("hex");
      subjects.push({ name: `acme/merged/${path}`, digest: `sha256:${hex}` });
    }
    expect(JSON.parse(applied.outputs["subjects"]!)).toEqual(subjects);
    expect(await readFile(applied.outputs["subject-checksums"]!, "utf8")).toBe(
      subjects.map((s) => `${s.digest.slice(7)}  ${s.name}\n`).join(""),
    );

    hub.requests.clear();
    const quiet = await action(workspace, scheduleEvent({ repo: REPO, sha }), { "hf-token": HF_TOKEN });
    expect(quiet.code).toBe(0);
    expect(quiet.outputs["has-work"]).toBe("false");
    expect(quiet.stdout).toContain("nothing to do");
    const paths = hub.requests.entries.map((r) => r.path);
    expect(paths.length).toBe(3);
    expect(paths.every((p) => /^\/api\/models\/acme\/(base|ft1|ft2)\/revision\//.test(p))).toBe(true);
  });

  it("re-merges on schedule after a source gets a new commit, and the lock records the new sha", async () => {
    const { workspace, sha } = await checkout({ "merges/demo.yaml": MANIFEST });
    expect(
      (await action(workspace, pushEvent({ repo: REPO, after: sha }), { "hf-token": HF_TOKEN })).code,
    ).toBe(0);
    const firstOutput = hub.admin.head("acme/merged");
    const ft2 = join(models, "ft2-v2");
    await writeTinyLlama(ft2, TEST_LLAMA, { baseSeed: 1, delta: { seed: 999, std: 0.004 } });
    const newSha = await seedHubModel(hub, "acme/ft2", ft2, "retrain");
    const lockSha = github.branchSha(REPO)!;
    const rerun = await action(workspace, scheduleEvent({ repo: REPO, sha: lockSha }), {
      "hf-token": HF_TOKEN,
    });
    expect(rerun.code).toBe(0);
    expect(rerun.summary).toContain("source acme/ft2");
    const lock = JSON.parse(github.readFile(REPO, "hubmerge.lock.json")!);
    expect(lock.manifests["merges/demo.yaml"].sources["acme/ft2"]).toBe(newSha);
    expect(hub.admin.head("acme/merged")).not.toBe(firstOutput);
  });

  it("records the lock through a pull request when lock-update is pull-request", async () => {
    const { workspace, sha } = await checkout({ "merges/demo.yaml": MANIFEST });
    const run = await action(workspace, pushEvent({ repo: REPO, after: sha }), {
      "hf-token": HF_TOKEN,
      "lock-update": "pull-request",
    });
    expect(run.code).toBe(0);
    expect(github.readFile(REPO, "hubmerge.lock.json")).toBeUndefined();
    const pulls = github.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ head: "hubmerge/lock-update", base: "main", state: "open" });
    expect(
      JSON.parse(github.readFile(REPO, "hubmerge.lock.json", "hubmerge/lock-update")!).manifests,
    ).toHaveProperty("merges/demo.yaml");
  });

  it("rejects a dispatch naming a model no manifest uses, and refuses apply on pull requests", async () => {
    const { workspace, sha } = await checkout({ "merges/demo.yaml": MANIFEST });
    const dispatch = repositoryDispatchEvent({
      repo: REPO,
      sha,
      eventType: "hubmerge-source-updated",
      clientPayload: { model: "evil/other", sha: "a".repeat(40) },
    });
    const rejected = await action(workspace, dispatch, { "hf-token": HF_TOKEN });
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain("no manifest uses");
    expect(hub.requests.matching({ pathIncludes: "/commit/" })).toHaveLength(0);
    const pr = pullRequestEvent({
      repo: REPO,
      number: 1,
      head: { ref: "x", sha },
      base: { ref: "main", sha },
    });
    const refused = await action(workspace, pr, { mode: "apply", "hf-token": HF_TOKEN });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/apply refuses to run on pull_request/);
  });

  it("annotates a broken manifest on its line and fails the plan", async () => {
    const { workspace, sha } = await checkout({
      "merges/bad.yaml": MANIFEST.replace(
        "density: 0.3}\n  - model: acme/ft2",
        "density: 3}\n  - model: acme/ft2",
      ),
    });
    const run = await action(workspace, pushEvent({ repo: REPO, after: sha }), { mode: "plan" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error title=E_MANIFEST,file=merges\/bad\.yaml,line=5,col=\d+::/);
    expect(run.summary).toContain("❌ invalid");
  });
});
