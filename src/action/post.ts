import * as core from "@actions/core";
import { rm } from "node:fs/promises";
import { TEMP_DIR_STATE } from "./state.js";

/** The post step: removes what a cancelled or failed run left behind. */
const tempDir = core.getState(TEMP_DIR_STATE);
if (tempDir) await rm(tempDir, { recursive: true, force: true });
