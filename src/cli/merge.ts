import { Option, type Command } from "commander";
import { runMerge } from "../pipeline.js";
import { formatBytes, parsePositiveInt, parseSeed, parseSize } from "./options.js";
import { progressReporter } from "./progress.js";

interface MergeFlags {
  out: string;
  seed?: bigint;
  threads?: number;
  shardSize?: number;
  force?: boolean;
  quiet?: boolean;
  allowIncompatible?: boolean;
  allowCrimes?: boolean;
}

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge the models a manifest names into a local folder")
    .argument("<manifest>", "merge manifest (mergekit YAML plus an optional hubmerge: block)")
    .requiredOption("-o, --out <dir>", "output folder (replaced atomically when the merge completes)")
    .option("--seed <n>", "override the manifest's seed for DARE/DELLA masks", parseSeed)
    .option("--threads <n>", "worker threads for the kernels (default: all cores)", parsePositiveInt)
    .option("--shard-size <size>", "largest shard, e.g. 5GB (default) or 500MB", parseSize)
    .option("--force", "replace an output folder that was not written by hubmerge")
    .option("-q, --quiet", "print only warnings and the summary")
    .option("--allow-incompatible", "merge even when the compatibility check finds blocking problems")
    .addOption(new Option("--allow-crimes", "mergekit's spelling of --allow-incompatible").hideHelp())
    .action(async (manifestPath: string, flags: MergeFlags) => {
      const result = await runMerge({
        manifestPath,
        out: flags.out,
        seed: flags.seed,
        force: flags.force,
        maxShardBytes: flags.shardSize,
        allowIncompatible: Boolean(flags.allowIncompatible || flags.allowCrimes),
        onEvent: progressReporter(process.stderr, flags.quiet ?? false),
      });
      const { record, plan } = result;
      const total = record.files.reduce((sum, f) => sum + f.size, 0);
      process.stdout.write(
        [
          `merged ${plan.recipes.length} tensors with ${plan.method.prettyName} (${plan.method.name}) in ${result.seconds.toFixed(1)} s`,
          `sources: ${record.sources.map((s) => s.ref).join(", ")}`,
          `seed ${record.seed}, dtype ${record.dtype}, ${record.warnings.length} warning(s)`,
          `wrote ${result.outDir} (${formatBytes(total)} in ${record.files.length} file(s))`,
          "",
        ].join("\n"),
      );
    });
}
