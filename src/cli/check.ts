import { Option, type Command } from "commander";
import {
  assertCompatible,
  checkRun,
  parseThresholdOverrides,
  renderJson,
  renderMarkdown,
  renderText,
} from "../pipeline/index.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { parseSize } from "./options.js";

interface CheckFlags extends HubFlags {
  json?: boolean;
  markdown?: boolean;
  allowIncompatible?: boolean;
  allowCrimes?: boolean;
  probe: boolean;
  probeBytes?: number;
  threshold?: string[];
}

export function registerCheck(program: Command): void {
  const command = program
    .command("check")
    .description("check that the models share a backbone (configs, tensor layouts, lineage, delta probe)")
    .argument("<manifest>", "merge manifest")
    .addOption(new Option("--json", "print the report as JSON").conflicts("markdown"))
    .option("--markdown", "print the report as Markdown (job summary, PR comment)")
    .option("--allow-incompatible", "exit 0 even with blocking findings")
    .addOption(new Option("--allow-crimes", "mergekit's spelling of --allow-incompatible").hideHelp())
    .option("--no-probe", "skip the delta probe: read headers and configs only, no weights")
    .option("--probe-bytes <size>", "most weight bytes the probe reads per model (default 4MiB)", parseSize)
    .option("--threshold <name=value...>", "override a probe threshold (see docs/compat.md)");
  addHubFlags(command).action(async (manifestPath: string, flags: CheckFlags) => {
    const thresholds = parseThresholdOverrides(flags.threshold ?? []);
    const session = sessionFromFlags(flags);
    const { manifest, report } = await checkRun({
      manifestPath,
      resolver: session.resolver,
      thresholds,
      lineageOf: session.lineageOf,
      probe: flags.probe ? { maxBytesPerModel: flags.probeBytes } : false,
    });
    const render = flags.json ? renderJson : flags.markdown ? renderMarkdown : renderText;
    process.stdout.write(render(report));
    const allow = Boolean(flags.allowIncompatible || flags.allowCrimes);
    assertCompatible(report, manifest, allow);
    if (report.blocking) {
      process.stderr.write(
        "hubmerge: blocking findings allowed (allow_incompatible / --allow-incompatible)\n",
      );
    }
  });
}
