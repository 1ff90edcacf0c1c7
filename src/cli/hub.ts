import { InvalidArgumentError, type Command } from "commander";
import { startLocalHub, type CdnOptions } from "../localhub/index.js";
import { readTokensFile } from "../localhub/token-file.js";
import { parsePositiveInt, parseSize } from "./options.js";

interface ServeFlags {
  dir: string;
  port: number;
  tokensFile?: string;
  ratePerConnection?: number;
  rateTotal?: number;
  latency?: number;
  cdn?: boolean;
  cdnPort?: number;
  cdnTtl?: number;
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
    .option("--rate-per-connection <size>", "pace each connection to this many bytes/s, e.g. 10MB", parseSize)
    .option("--rate-total <size>", "pace all connections together to this many bytes/s, e.g. 80MB", parseSize)
    .option("--latency <ms>", "wait this many milliseconds before each answer's first byte", parseMillis)
    .option("--cdn", "serve LFS files from a second port through signed, expiring URLs (as the Hub's CDN)")
    .option("--cdn-port <n>", "port of the CDN origin (default: any free port)", parsePort)
    .option("--cdn-ttl <seconds>", "how long a signed CDN URL stays valid (default 3600)", parsePositiveInt)
    .action(async (flags: ServeFlags) => {
      const tokens = flags.tokensFile ? await readTokensFile(flags.tokensFile) : [];
      const server = await startLocalHub({
        dir: flags.dir,
        port: flags.port,
        tokens,
        pacing: { perConnection: flags.ratePerConnection, total: flags.rateTotal, latencyMs: flags.latency },
        cdn: cdnOptions(flags),
      });
      const cdn = server.cdn ? `, LFS files from ${server.cdn.url}` : "";
      process.stdout.write(
        `local Hub serving ${flags.dir} at ${server.url}${cdn} (${tokens.length} token(s)); Ctrl-C stops it\n`,
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

function cdnOptions(flags: ServeFlags): CdnOptions | undefined {
  if (!flags.cdn) return undefined;
  return { port: flags.cdnPort, ttlMs: flags.cdnTtl === undefined ? undefined : flags.cdnTtl * 1000 };
}

function parseMillis(value: string): number {
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError("expected milliseconds ≥ 0");
  return ms;
}

function parsePort(value: string): number {
  const port = parsePositiveInt(value);
  if (port > 65535) throw new InvalidArgumentError("expected a port from 1 to 65535");
  return port;
}
