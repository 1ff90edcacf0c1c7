/**
 * Issue 13, security 1, as the runner sees it: a pull request adds a local model whose
 * config.json is a symlink to a file outside the checkout. The plan must refuse the model and
 * never show the file's content in the step summary, the comment or the log.
 */
import { copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runAction } from "../support/action-runner.js";
import { pullRequestEvent, startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import { writeFamily } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const GH_TOKEN = "ghs_local_action_token";
const REPO = "acme/merges";
const SECRET = "c2VjcmV0LXJlZ2lzdHJ5LXRva2VuLTAwMDE=";
const MANIFEST = `merge_method: task_arithmetic
base_model: ./base
models:
  - model: ./m
    parameters: {weight: 1}
`;

let github: LocalGitHub;
beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [GH_TOKEN] });
});
afterEach(() => github.close());

it("refuses a pull request's model whose config.json links out of the workspace, showing nothing of it", async () => {
  const root = await tempDir();
  const workspace = join(root, "workspace");
  const evil = join(workspace, "merges", "evil");
  await mkdir(evil, { recursive: true });
  const { fineTunes } = await writeFamily(evil, { fineTunes: 1 });
  await mkdir(join(evil, "m"));
  await copyFile(join(fineTunes[0]!, "model.safetensors"), join(evil, "m", "model.safetensors"));
  const outside = join(root, "runner-home.json");
  await writeFile(outside, JSON.stringify({ auths: { "ghcr.io": { auth: SECRET } } }));
  await symlink(outside, join(evil, "m", "config.json"));
  await writeFile(join(evil, "merge.yaml"), MANIFEST);

  const base = github.seedRepo(REPO, { files: { "README.md": "merges\n" } });
  const head = github.seedRepo(REPO, { files: { "merges/evil/merge.yaml": MANIFEST }, branch: "evil" });
  const pull = github.openPull(REPO, { title: "Add a merge", head: "evil", base: "main" });
  const run = await runAction({
    workspace,
    runnerDir: await tempDir(),
    event: pullRequestEvent({
      repo: REPO,
      number: pull.number,
      head: { ref: "evil", sha: head },
      base: { ref: "main", sha: base },
    }),
    apiUrl: github.url,
    inputs: { "github-token": GH_TOKEN, "hub-url": "http://127.0.0.1:9", manifests: "merges/**/*.yaml" },
  });
  const comments = github.comments(REPO, pull.number).map((c) => c.body);
  const everything = [run.stdout, run.stderr, run.summary, ...comments].join("\n");
  expect(everything).toContain("config.json in ./m resolves outside the workspace");
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toContain("ghcr.io");
  expect(run.code).toBe(1);
});

it("refuses a pull request's manifest that is a symlink out of the workspace, showing nothing of it", async () => {
  const root = await tempDir();
  const workspace = join(root, "workspace");
  await mkdir(join(workspace, "merges"), { recursive: true });
  const outside = join(root, "runner-config.yaml");
  await writeFile(outside, `merge_method: ${SECRET}\nmodels: [{model: acme/a}]\n`);
  await symlink(outside, join(workspace, "merges", "evil.yaml"));

  const base = github.seedRepo(REPO, { files: { "README.md": "merges\n" } });
  const head = github.seedRepo(REPO, { files: { "merges/evil.yaml": "see the symlink" }, branch: "evil" });
  const pull = github.openPull(REPO, { title: "Add a merge", head: "evil", base: "main" });
  const run = await runAction({
    workspace,
    runnerDir: await tempDir(),
    event: pullRequestEvent({
      repo: REPO,
      number: pull.number,
      head: { ref: "evil", sha: head },
      base: { ref: "main", sha: base },
    }),
    apiUrl: github.url,
    inputs: { "github-token": GH_TOKEN, "hub-url": "http://127.0.0.1:9" },
  });
  const comments = github.comments(REPO, pull.number).map((c) => c.body);
  const everything = [run.stdout, run.stderr, run.summary, ...comments].join("\n");
  expect(everything).toContain("the manifest merges/evil.yaml resolves outside the workspace");
  expect(everything).not.toContain(SECRET);
  expect(run.code).toBe(1);
});
