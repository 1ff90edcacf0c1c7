import { InvalidArgumentError, Option, type Command } from "commander";
import { HubmergeError } from "../errors.js";
import {
  BACKEND_NAMES,
  renderVerifyReport,
  verifyFailure,
  verifyMerge,
  type BackendName,
} from "../pipeline/index.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { parsePositiveInt } from "./options.js";

interface VerifyFlags extends HubFlags {
  full?: boolean;
  sample?: number;
  seedDraw?: number;
  threads?: number;
  backend?: BackendName;
}

/** `--sample 2` or `--sample 2%`: a percentage of the model's bytes, above 0 and at most 100. */
export function parsePercent(value: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim());
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent > 0 && percent <= 100))
    throw new InvalidArgumentError("expected a percentage from 0 to 100, e.g. 2 or 2%");
  return percent / 100;
}

function parseSeedDraw(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

export function registerVerify(program: Command): void {
  const command = program
    .command("verify")
    .description("re-create a published merge (or a sample of it) from its record and compare the bytes")
    .argument("<target>", "a Hub repo (org/name or org/name@revision) or a merge's output folder")
    .option("--full", "merge every tensor again and compare every shard's sha256")
    .option("--sample <percent>", "merge again this share of the model's bytes (default 2%)", parsePercent)
    .option("--seed-draw <n>", "repeat the sample drawn with this seed (verify prints it)", parseSeedDraw)
    .option("--threads <n>", "worker threads for the kernels (default: all cores)", parsePositiveInt)
    .addOption(
      new Option(
        "--backend <name>",
        "kernels: auto, wasm, webgpu or reference (the bytes do not depend on it)",
      )
        .choices(BACKEND_NAMES)
        .default("auto"),
    );
  addHubFlags(command).action(async (target: string, flags: VerifyFlags) => {
    if (flags.full && flags.sample !== undefined) {
      throw new HubmergeError("E_USAGE", "--full and --sample exclude each other", {
        hint: "choose one: --full re-creates everything, --sample P a share of it",
      });
    }
    const session = sessionFromFlags(flags);
    const report = await verifyMerge({
      target,
      resolver: session.resolver,
      full: flags.full,
      fraction: flags.sample,
      seedDraw: flags.seedDraw,
      backend: flags.backend,
      threads: flags.threads,
    });
    process.stdout.write(renderVerifyReport(report));
    if (!report.ok) throw verifyFailure(report);
  });
}
