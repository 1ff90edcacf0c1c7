import type { Command } from "commander";
import { hubConfigFrom } from "../hub/client/config.js";
import { hubSession, type HubSession } from "../session.js";
import { parsePositiveInt } from "./options.js";

export interface HubFlags {
  hubUrl?: string;
  token?: string;
  cacheDir?: string;
  workspace?: string;
  connections?: number;
}

/** The flags every command that reads Hub models takes. */
export function addHubFlags(command: Command): Command {
  return command
    .option("--hub-url <url>", "Hub endpoint (default: $HF_ENDPOINT, else https://huggingface.co)")
    .option("--token <token>", "Hub token (prefer $HF_TOKEN: flags show up in process lists)")
    .option("--cache-dir <dir>", "keep downloaded Hub bytes here for later runs")
    .option(
      "--workspace <dir>",
      "refuse local models (and files in them) whose real path, after symlinks, is outside this folder; use it for manifests you did not write",
    )
    .option(
      "--connections <n>",
      "range requests in flight to the Hub at once, across all models (default 16)",
      parsePositiveInt,
    );
}

export function sessionFromFlags(flags: HubFlags): HubSession {
  const hub = hubConfigFrom({ flagUrl: flags.hubUrl, flagToken: flags.token, env: process.env });
  return hubSession(hub, {
    cacheDir: flags.cacheDir,
    workspace: flags.workspace,
    connections: flags.connections,
  });
}
