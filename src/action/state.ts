/** Saved by the main step, read by the post step. */
export const TEMP_DIR_STATE = "hubmerge-temp-dir";
