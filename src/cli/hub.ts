import { InvalidArgumentError, type Command } from "commander";
import { startLocalHub } from "../localhub/index.js";
import { readTokensFile } from "../localhub/token-file.js";
import { parsePositiveInt } from "./options.js";

interface ServeFlags {
  dir: string;
  port: number;
  tokensFile?: string;
}

export function registerHub(program: Command): void {
  const hub = program.command("hub").description("a local server that speaks the Hugging Face Hub protocol");
  hub
    .command("serve")
    .description("serve Hub repos from a folder on 127.0.0.1 (for offline use, tests and demos)")
    .requiredOption("--dir <dir>", "folder holding the repos (created if missing)")
    .option("--port <n>", "port to listen on", parsePort, 7860)
    .option(
      "--tokens-file <file>",
      'JSON list of {"token": "hf_...", "user": "...", "orgs"?: [...], "role"?: "read"}',
    )
    .action(async (flags: ServeFlags) => {
      const tokens = flags.tokensFile ? await readTokensFile(flags.tokensFile) : [];
      const server = await startLocalHub({ dir: flags.dir, port: flags.port, tokens });
      process.stdout.write(
        `local Hub serving ${flags.dir} at ${server.url} (${tokens.length} token(s)); Ctrl-C stops it\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          void server.close().then(resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}

function parsePort(value: string): number {
  const port = parsePositiveInt(value);
  if (port > 65535) throw new InvalidArgumentError("expected a port from 1 to 65535");
  return port;
}
