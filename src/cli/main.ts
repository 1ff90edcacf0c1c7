import { Command, CommanderError } from "commander";
import { pathToFileURL } from "node:url";
import { ERROR_CODES, HubmergeError } from "../errors.js";
import { TOOL } from "../version.js";
import { registerBot } from "./bot.js";
import { registerCheck } from "./check.js";
import { registerHub } from "./hub.js";
import { registerInspect } from "./inspect.js";
import { registerMerge } from "./merge.js";
import { registerPlan } from "./plan.js";
import { registerVerify } from "./verify.js";
import { registerPublish } from "./publish.js";

/** Runs the CLI; resolves to the exit status (0 ok, see ERROR_CODES for the rest). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("hubmerge")
    .description("Merge fine-tunes of one backbone (DARE, TIES, SLERP, ...) reproducibly")
    .version(TOOL.version)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerMerge(program);
  registerPlan(program);
  registerPublish(program);
  registerCheck(program);
  registerInspect(program);
  registerHub(program);
  registerBot(program);
  registerVerify(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message; --help and --version end with code 0.
    return error.exitCode === 0 ? 0 : ERROR_CODES.E_USAGE;
  }
  if (error instanceof HubmergeError) {
    process.stderr.write(`hubmerge: ${error.format()}\n`);
    return error.exitCode;
  }
  process.stderr.write(`hubmerge: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return ERROR_CODES.E_INTERNAL;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv);
}
