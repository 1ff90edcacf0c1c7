/**
 * The three-stage apply workflow, run in-process (src/action/main.ts, not dist/) against the local
 * GitHub and Hub: plan emits parts, each part runs on a runner of its own, publish assembles.
 */
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workflowDispatchEvent, writeActionEvent, type ActionEvent } from "../support/github/index.js";
import { FAMILY_MANIFEST } from "../support/hub-models.js";
import { GH_TOKEN, HF_TOKEN, REPO, useActionWorld } from "./workspace.js";

const world = useActionWorld();
const SHARD = "6000";
const MANIFEST = "merges/big.yaml";
const SMALL = "merges/small.yaml";

/** One step of a job: INPUT_* and GITHUB_* as a runner sets them, then the Action's run(). */
async function step(workspace: string, event: ActionEvent, inputs: Record<string, string>) {
  const runnerDir = await world.tempDir();
  const { env } = await writeActionEvent(runnerDir, event, { apiUrl: world.github.url });
  const files = { GITHUB_OUTPUT: "output", GITHUB_STEP_SUMMARY: "summary", GITHUB_STATE: "state" };
  for (const name of Object.values(files)) await writeFile(join(runnerDir, name), "");
  const saved = { ...process.env };
  const cwd = process.cwd();
  Object.assign(process.env, env, {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: join(runnerDir, "temp"),
    ...Object.fromEntries(Object.entries(files).map(([k, v]) => [k, join(runnerDir, v)])),
  });
  const given = { "hub-url": world.hub.url, "github-token": GH_TOKEN, "hf-token": HF_TOKEN, ...inputs };
  for (const [name, value] of Object.entries(given)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  try {
    const { run } = await import("../../src/action/main.js");
    await run();
    const failed = process.exitCode === 1;
    return { failed, outputs: parseOutputs(await readFile(join(runnerDir, "output"), "utf8")) };
  } finally {
    process.exitCode = undefined;
    process.chdir(cwd);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as @actions/core writes GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(pattern)) outputs[m[1]!] = m[3]!;
  return outputs;
}

describe("the Action fans a merge out: plan → parts → publish", () => {
  it("plans two parts, runs them, publishes one commit and records the lock once", async () => {
    const text = FAMILY_MANIFEST.replace("  seed: 5\n", "  seed: 5\n  parts: 2\n");
    // A manifest without parts beside it: one matrix job merges, publishes and locks it.
    const small = FAMILY_MANIFEST.replace("acme/merged", "acme/small");
    const { workspace, sha } = await world.checkout({ [MANIFEST]: text, [SMALL]: small });
    const event = workflowDispatchEvent({ repo: REPO, sha });
    const hub = world.hub;

    const plan = await step(workspace, event, { mode: "plan", "shard-size": SHARD });
    expect(plan.failed).toBe(false);
    const matrix = JSON.parse(plan.outputs["matrix"]!) as {
      include: { manifest: string; part?: string; pins?: string }[];
    };
    expect(matrix.include.map((e) => [e.manifest, e.part])).toEqual([
      [MANIFEST, "1/2"],
      [MANIFEST, "2/2"],
      [SMALL, undefined],
    ]);

    const partsDir = join(await world.tempDir(), "hubmerge-parts");
    await mkdir(partsDir, { recursive: true });
    const commitsBefore = world.github.commits(REPO).length;
    for (const entry of matrix.include.filter((e) => e.part)) {
      const part = await step(workspace, event, {
        mode: "apply",
        only: entry.manifest,
        part: entry.part!,
        pins: entry.pins!,
        "shard-size": SHARD,
        backend: "reference",
        "lock-update": "commit",
      });
      expect(part.failed).toBe(false);
      expect(JSON.parse(part.outputs["results"]!)).toMatchObject([{ status: "uploaded", part: entry.part }]);
      // actions/upload-artifact, then download-artifact with merge-multiple: one folder.
      await cp(part.outputs["receipts"]!, partsDir, { recursive: true });
    }
    // The parts commit nothing but the repo's creation: no model commit, no lock.
    const created = hub.admin.head("acme/merged");
    expect(world.github.commits(REPO)).toHaveLength(commitsBefore);

    const whole = await step(workspace, event, {
      mode: "apply",
      only: SMALL,
      "shard-size": SHARD,
      backend: "reference",
      "lock-update": "commit",
    });
    expect(JSON.parse(whole.outputs["results"]!)).toMatchObject([
      { status: "published", repo: "acme/small" },
    ]);
    expect(whole.outputs["receipts"]).toBeUndefined();
    expect(world.github.commits(REPO)).toHaveLength(commitsBefore + 1);

    const publish = await step(workspace, event, {
      mode: "publish",
      "parts-dir": partsDir,
      "lock-update": "commit",
    });
    expect(publish.failed).toBe(false);
    const head = hub.admin.head("acme/merged");
    expect(head).not.toBe(created);
    // The whole manifest was published and locked by its own job: publish leaves it alone.
    expect(JSON.parse(publish.outputs["results"]!)).toMatchObject([
      { manifest: MANIFEST, status: "published", commit: head },
      // up to date here, where the jobs share one workspace and its lockfile; skipped in a fresh checkout
      { manifest: SMALL, status: expect.stringMatching(/^(skipped|up-to-date)$/) },
    ]);
    expect(world.github.commits(REPO)).toHaveLength(commitsBefore + 2);
    const lock = JSON.parse(world.github.readFile(REPO, "hubmerge.lock.json")!);
    expect(lock.manifests[MANIFEST].output.commit).toBe(head);
    expect(lock.manifests[MANIFEST].sources["acme/ft1"]).toBe(hub.admin.head("acme/ft1"));
    expect(lock.manifests[SMALL].output.commit).toBe(hub.admin.head("acme/small"));
  }, 120_000);

  it("fails the job of a part that cannot run, and of a part without pins", async () => {
    const text = FAMILY_MANIFEST.replace("  seed: 5\n", "  seed: 5\n  parts: 2\n");
    const { workspace, sha } = await world.checkout({ [MANIFEST]: text });
    const event = workflowDispatchEvent({ repo: REPO, sha });
    const plan = await step(workspace, event, { mode: "plan", "shard-size": SHARD });
    const entry = (JSON.parse(plan.outputs["matrix"]!) as { include: { part: string; pins: string }[] })
      .include[0]!;
    const pins = JSON.parse(entry.pins);
    pins.sources = pins.sources.filter((s: { ref: string }) => s.ref !== "acme/ft1");
    const apply = { mode: "apply", only: MANIFEST, "shard-size": SHARD, backend: "reference" };
    const unpinned = await step(workspace, event, { ...apply, part: entry.part, pins: JSON.stringify(pins) });
    expect(unpinned.failed).toBe(true);
    expect(JSON.parse(unpinned.outputs["results"]!)).toMatchObject([
      { status: "failed", error: expect.stringMatching(/do not pin acme\/ft1/) },
    ]);
    const noPins = await step(workspace, event, { ...apply, part: entry.part });
    expect(noPins.failed).toBe(true);
    expect(noPins.outputs["results"]).toBeUndefined();
  }, 120_000);
});
