/** `--workspace DIR`: the CLI's opt-in confinement of local models (the Action always confines). */
import { mkdir, rename, symlink } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

it("refuses a model whose file links out of --workspace, and plans it without the flag", async () => {
  const root = await tempDir();
  const workspace = join(root, "ws");
  await mkdir(workspace);
  await writeFamily(workspace, { fineTunes: 1 });
  // The same config, moved out of the workspace and linked back: only the link's target differs.
  await rename(join(workspace, "ft1", "config.json"), join(root, "outside.json"));
  await symlink(join(root, "outside.json"), join(workspace, "ft1", "config.json"));
  const manifest = await writeManifest(
    workspace,
    "merge_method: task_arithmetic\nbase_model: ./base\nmodels:\n  - model: ./ft1\n    parameters: {weight: 1}\n",
  );
  const confined = await runCli(["plan", "--workspace", workspace, manifest]);
  expect(confined.stderr).toContain("[E_IO] config.json in ./ft1 resolves outside the workspace");
  expect(confined.code).toBe(7);
  const open = await runCli(["plan", manifest]);
  expect(open.code).toBe(0);
});
