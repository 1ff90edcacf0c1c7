import * as core from "@actions/core";
import { rm } from "node:fs/promises";
import { TEMP_DIR_STATE } from "./state.js";

/**
 * The post step: removes what a cancelled or failed run left behind. Exported as `run()`, like
 * main.ts, so `@github/local-action` can run it; post-index.ts is the bundle's entry.
 */
export async function run(): Promise<void> {
  const tempDir = core.getState(TEMP_DIR_STATE);
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
}
