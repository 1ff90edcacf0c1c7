/**
 * The committed bundle run the way the runner runs it: action.yml and dist/ alone in a folder
 * with no node_modules anywhere above it, inputs as INPUT_* (action.yml's defaults included), the
 * @actions/core file protocol (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY), then the post
 * step with the saved state as STATE_*. On the software adapter, `backend: webgpu` must really
 * merge on WebGPU with `webgpu` installed only in the workspace.
 */
import { existsSync } from "node:fs";
import { mkdir, stat, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEMP_DIR_STATE } from "../../src/action/state.js";
import { actionCopy, runPost } from "../support/action-runner.js";
import { pushEvent } from "../support/github/index.js";
import { FAMILY_MANIFEST } from "../support/hub-models.js";
import { openTestRuntime } from "../merge/kernels/webgpu/gpu-setup.js";
import { HF_TOKEN, REPO, useActionWorld } from "./workspace.js";

const world = useActionWorld();
const WEBGPU = fileURLToPath(new URL("../../node_modules/webgpu", import.meta.url));

describe("the bundled Action, as the runner runs it", () => {
  it("runs from a copy without node_modules, writes outputs, state and summary; the post step cleans up", async () => {
    const action = await actionCopy();
    for (let dir = action; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, "node_modules")), `${dir}/node_modules`).toBe(false);
    }
    const { workspace, sha } = await world.checkout({ "merges/demo.yaml": FAMILY_MANIFEST });
    const run = await world.action(workspace, pushEvent({ repo: REPO, after: sha }), {
      "hf-token": HF_TOKEN,
    });
    expect(run.code).toBe(0);
    expect(run.outputs["has-work"]).toBe("true");
    expect(JSON.parse(run.outputs["results"]!)[0]).toMatchObject({
      status: "published",
      repo: "acme/merged",
    });
    expect(run.summary).toContain("## hubmerge apply");
    expect(run.summary).toMatch(/Merged on (wasm|reference)/);
    const left = run.state[TEMP_DIR_STATE];
    expect(left).toMatch(/hubmerge-\d+$/);

    // As if the job was cancelled mid-merge: the post step gets the state and removes the folder.
    await mkdir(join(left!, "half"), { recursive: true });
    const post = await runPost({ workspace, state: run.state });
    expect(post.code).toBe(0);
    await expect(stat(left!)).rejects.toThrow(/ENOENT/);
  });

  it("merges on WebGPU with webgpu installed in the workspace (software adapter)", async (ctx) => {
    const probe = await openTestRuntime();
    if (!probe) return ctx.skip();
    await probe.close();
    const { workspace, sha } = await world.checkout({ "merges/demo.yaml": FAMILY_MANIFEST });
    // The documented install step (`npm install --no-save webgpu` in the workspace), without a download.
    await mkdir(join(workspace, "node_modules"));
    await symlink(WEBGPU, join(workspace, "node_modules", "webgpu"));
    const run = await world.action(
      workspace,
      pushEvent({ repo: REPO, after: sha }),
      { "hf-token": HF_TOKEN, backend: "webgpu" },
      { HUBMERGE_GPU_ALLOW_SOFTWARE: "1" },
    );
    expect(run.stdout).not.toContain("::error");
    expect(run.code, run.stderr.slice(-2000) + run.stdout.slice(-2000)).toBe(0);
    const [result] = JSON.parse(run.outputs["results"]!);
    expect(result.kernels).toMatch(/^webgpu \(.*software\) \+ wasm/);
    expect(run.summary).toMatch(/Merged on webgpu \(.*software\)/);
  });
});
