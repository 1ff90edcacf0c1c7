/** A local Hub with the model family, a local GitHub, and runs of the bundled Action against both. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { runAction, type ActionRun } from "../support/action-runner.js";
import { startLocalGitHub, type LocalGitHub, type TokenSpec } from "../support/github/index.js";
import { seedFamilyOnHub } from "../support/hub-models.js";
import { useTempDirs } from "../support/tmp.js";

export const HF_TOKEN = "hf_acme_writer_token_123456";
export const GH_TOKEN = "ghs_local_action_token";
/** The token a fork's pull request, or `permissions: contents: read`, gets. */
export const READ_ONLY_TOKEN = "ghs_read_only_token";
export const REPO = "acme/merges";

export interface ActionWorld {
  hub: LocalHub;
  github: LocalGitHub;
  tempDir: () => Promise<string>;
  /** Writes the files into a fresh workspace and seeds them as the repo's main branch. */
  checkout(files: Record<string, string>): Promise<{ workspace: string; sha: string }>;
  action(
    workspace: string,
    event: Parameters<typeof runAction>[0]["event"],
    inputs: Record<string, string>,
    env?: Record<string, string>,
  ): Promise<ActionRun>;
}

export function useActionWorld(tokens: TokenSpec[] = []): ActionWorld {
  const tempDir = useTempDirs();
  const world = { tempDir } as ActionWorld;
  beforeEach(async () => {
    const root = await tempDir();
    world.hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: HF_TOKEN, user: "acme" }] });
    world.github = await startLocalGitHub({
      tokens: [GH_TOKEN, { token: READ_ONLY_TOKEN, readOnly: true }, ...tokens],
    });
    await seedFamilyOnHub(world.hub, join(root, "models"));
  });
  afterEach(async () => {
    await Promise.all([world.hub.close(), world.github.close()]);
  });
  world.checkout = async (files) => {
    const workspace = await tempDir();
    await writeFiles(workspace, files);
    return { workspace, sha: world.github.seedRepo(REPO, { files }) };
  };
  world.action = async (workspace, event, inputs, env) =>
    runAction({
      workspace,
      runnerDir: await tempDir(),
      event,
      apiUrl: world.github.url,
      inputs: { "hub-url": world.hub.url, "github-token": GH_TOKEN, ...inputs },
      ...(env && { env }),
    });
  return world;
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}
