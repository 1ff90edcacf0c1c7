import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TEMP_DIR_STATE } from "../../src/action/state.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const STATE = `STATE_${TEMP_DIR_STATE}`;

afterEach(() => {
  delete process.env[STATE];
});

describe("the post step's module (what @github/local-action runs)", () => {
  it("exports run(), which removes the saved temp folder", async () => {
    const left = join(await tempDir(), "hubmerge-1");
    await mkdir(join(left, "x"), { recursive: true });
    process.env[STATE] = left;
    const post = (await import("../../src/action/post.js")) as { run?: () => Promise<void> };
    expect(typeof post.run).toBe("function");
    await post.run!();
    await expect(stat(left)).rejects.toThrow(/ENOENT/);
  });
});
