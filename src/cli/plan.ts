import type { Command } from "commander";
import { closeModels, manifestWarnings, pinsOf, planRun, writePins } from "../pipeline.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { formatBytes } from "../format.js";
import { parseSize } from "./options.js";

export function registerPlan(program: Command): void {
  const command = program
    .command("plan")
    .description("validate a manifest and show what the merge would do, without reading weights")
    .argument("<manifest>", "merge manifest")
    .option("--shard-size <size>", "largest shard, e.g. 5GB (default) or 500MB", parseSize)
    .option("--json", "print the plan as JSON")
    .option("--pins <file>", "write every source's resolved revision to FILE (for merge --part)");
  addHubFlags(command).action(
    async (manifestPath: string, flags: HubFlags & { shardSize?: number; json?: boolean; pins?: string }) => {
      const { resolver } = sessionFromFlags(flags);
      const planned = await planRun({
        manifestPath,
        resolver,
        maxShardBytes: flags.shardSize,
      });
      const { plan, manifest, models, chatTemplate } = planned;
      await closeModels(models);
      if (flags.pins) await writePins(flags.pins, pinsOf(planned));
      if (flags.json) {
        const { method, ...rest } = plan;
        const json = { method: method.name, manifestWarnings: manifestWarnings(manifest), ...rest };
        process.stdout.write(JSON.stringify(json, null, 2) + "\n");
        return;
      }
      const merged = plan.recipes.filter((r) => r.action === "merge").length;
      const lines = [
        `${manifest.file}: ${plan.method.prettyName} (${plan.method.name})`,
        `reference model: ${plan.referenceModel}`,
        `tensors: ${plan.recipes.length} (${merged} merged, ${plan.recipes.length - merged} copied)`,
        `reads ${formatBytes(plan.inputBytes)}, writes ${formatBytes(plan.shards.totalSize)} in ${plan.shards.files.length} shard(s), dtype ${plan.torchDtype}`,
        ...(chatTemplate ? [`chat template: ${chatTemplate.origin}`] : []),
        ...[...manifestWarnings(manifest), ...plan.warnings].map((w) => `warning: ${w}`),
      ];
      process.stdout.write(lines.join("\n") + "\n");
    },
  );
}
