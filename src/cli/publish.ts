import type { Command } from "commander";
import { assembleParts } from "../pipeline/index.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { progressReporter } from "./progress.js";

interface PublishFlags extends HubFlags {
  parts: string;
  out?: string;
  force?: boolean;
  quiet?: boolean;
}

export function registerPublish(program: Command): void {
  const command = program
    .command("publish")
    .description("assemble the parts of a split merge (merge --part I/N) and publish them in one commit")
    .argument("<manifest>", "the manifest the parts were merged from")
    .requiredOption("--parts <dir>", "folder holding the parts' receipts (searched recursively)")
    .option(
      "-o, --out <dir>",
      "assemble locally into this folder (shards copied from the part folders) instead",
    )
    .option("--force", "replace an --out folder that was not written by hubmerge")
    .option("-q, --quiet", "print only warnings and the summary");
  addHubFlags(command).action(async (manifestPath: string, flags: PublishFlags) => {
    const session = sessionFromFlags(flags);
    const result = await assembleParts({
      manifestPath,
      partsDir: flags.parts,
      resolver: session.resolver,
      lineageOf: session.lineageOf,
      hubUrl: session.hub.hubUrl,
      onEvent: progressReporter(process.stderr, flags.quiet ?? false),
      out: flags.out,
      force: flags.force,
      publish: flags.out ? undefined : { hub: session.hub },
    });
    const lines = [`assembled ${result.record.files.length} file(s) of weights from the parts`];
    if (result.outDir) lines.push(`wrote ${result.outDir}`);
    if (result.published)
      lines.push(`published ${result.published.url} at commit ${result.published.commitSha}`);
    process.stdout.write(lines.join("\n") + "\n");
  });
}
