/**
 * The whole loop: a new commit on a source model in the local Hub → the Hub's webhook to the
 * bot → a repository_dispatch recorded by the local GitHub → the bundled Action run with that
 * dispatch event → it re-merges, publishes and commits the lock with the new source sha.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { writeTinyLlama } from "../../src/synth/tiny-llama.js";
import { runAction } from "../support/action-runner.js";
import {
  pushEvent,
  repositoryDispatchEvent,
  startLocalGitHub,
  type LocalGitHub,
} from "../support/github/index.js";
import { FAMILY_MANIFEST, seedFamilyOnHub, seedHubModel } from "../support/hub-models.js";
import { TEST_LLAMA } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { GITHUB_TOKEN, hubWebhookBody, postHubWebhook, startTestBot, type TestBot } from "./harness.js";

const tempDir = useTempDirs();
const HF_TOKEN = "hf_acme_writer_token_123456";
const REPO = "acme/merges";
const MANIFEST = FAMILY_MANIFEST;

let hub: LocalHub;
let github: LocalGitHub;
let bot: TestBot | undefined;
let models: string;

beforeEach(async () => {
  const root = await tempDir();
  models = join(root, "models");
  hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: HF_TOKEN, user: "acme" }] });
  github = await startLocalGitHub({ tokens: [GITHUB_TOKEN] });
  await seedFamilyOnHub(hub, models);
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await Promise.all([hub.close(), github.close()]);
});

async function action(workspace: string, event: Parameters<typeof runAction>[0]["event"]) {
  return runAction({
    workspace,
    runnerDir: await tempDir(),
    event,
    apiUrl: github.url,
    inputs: { "hub-url": hub.url, "github-token": GITHUB_TOKEN, "hf-token": HF_TOKEN },
  });
}

it("a new source commit on the Hub reaches the Action through the bot, which re-merges and updates the lock", async () => {
  const workspace = await tempDir();
  await mkdir(join(workspace, "merges"), { recursive: true });
  await writeFile(join(workspace, "merges", "demo.yaml"), MANIFEST);
  const first = github.seedRepo(REPO, { files: { "merges/demo.yaml": MANIFEST } });
  expect((await action(workspace, pushEvent({ repo: REPO, after: first }))).code).toBe(0);
  const firstOutput = hub.admin.head("acme/merged");

  bot = await startTestBot(github, { repos: [REPO] });
  expect(bot.index.subscribers("acme/ft2")).toEqual([REPO]);

  const oldSha = hub.admin.head("acme/ft2");
  const retrained = join(models, "ft2-v2");
  await writeTinyLlama(retrained, TEST_LLAMA, { baseSeed: 1, delta: { seed: 999, std: 0.004 } });
  const newSha = await seedHubModel(hub, "acme/ft2", retrained, "retrain");
  const webhook = await postHubWebhook(bot, hubWebhookBody("acme/ft2", newSha, { oldSha, hubUrl: hub.url }));
  expect(webhook.status).toBe(202);
  await bot.dispatcher.flush();

  expect(github.dispatches).toHaveLength(1);
  const [dispatch] = github.dispatches;
  expect(dispatch).toMatchObject({ repo: REPO, client_payload: { model: "acme/ft2", sha: newSha } });

  const event = repositoryDispatchEvent({
    repo: REPO,
    sha: github.branchSha(REPO)!,
    eventType: dispatch!.event_type,
    clientPayload: dispatch!.client_payload,
  });
  const rerun = await action(workspace, event);
  expect(rerun.stdout).not.toContain("::error");
  expect(rerun.code).toBe(0);
  const lock = JSON.parse(github.readFile(REPO, "hubmerge.lock.json")!);
  expect(lock.manifests["merges/demo.yaml"].sources["acme/ft2"]).toBe(newSha);
  expect(lock.manifests["merges/demo.yaml"].output.commit).toBe(hub.admin.head("acme/merged"));
  expect(hub.admin.head("acme/merged")).not.toBe(firstOutput);

  // The Hub redelivering the same webhook changes nothing.
  const replay = await postHubWebhook(bot, hubWebhookBody("acme/ft2", newSha, { oldSha, hubUrl: hub.url }));
  expect(replay.status).toBe(200);
  await bot.dispatcher.flush();
  expect(github.dispatches).toHaveLength(1);
});
