import { spawnSync } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEMP_DIR_STATE } from "../../src/action/state.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const POST = fileURLToPath(new URL("../../dist/post.js", import.meta.url));

describe("the Action's post step (dist/post.js)", () => {
  it("removes the temp folder a cancelled run left, as the runner hands it the saved state", async () => {
    const left = join(await tempDir(), "hubmerge-123");
    await mkdir(join(left, "half-merged"), { recursive: true });
    await writeFile(join(left, "half-merged", "model-00001-of-00002.safetensors.partial"), "x");
    const run = spawnSync(process.execPath, [POST], {
      env: { PATH: process.env["PATH"], [`STATE_${TEMP_DIR_STATE}`]: left },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    await expect(stat(left)).rejects.toThrow(/ENOENT/);
  });

  it("does nothing when the main step saved no state", () => {
    const run = spawnSync(process.execPath, [POST], { env: { PATH: process.env["PATH"] }, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
  });
});
