import type { Command } from "commander";
import { HubmergeError } from "../errors.js";
import {
  manifestWarnings,
  pinsOf,
  planGraph,
  readMergeGraph,
  writePins,
  type PlannedRun,
  type PlannedStep,
} from "../pipeline/index.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { formatBytes } from "../format.js";
import { parseSize } from "./options.js";

export function registerPlan(program: Command): void {
  const command = program
    .command("plan")
    .description("validate a manifest and show what the merge would do, without reading weights")
    .argument("<manifest>", "merge manifest (or a mergekit-multi file of several merges)")
    .option("--shard-size <size>", "largest shard, e.g. 5GB (default) or 500MB", parseSize)
    .option("--json", "print the plan as JSON")
    .option("--pins <file>", "write every source's resolved revision to FILE (for merge --part)");
  addHubFlags(command).action(
    async (manifestPath: string, flags: HubFlags & { shardSize?: number; json?: boolean; pins?: string }) => {
      const { resolver } = sessionFromFlags(flags);
      const graph = await readMergeGraph(manifestPath);
      const steps = await planGraph(graph, { resolver, maxShardBytes: flags.shardSize });
      if (steps.length === 1) {
        const { planned } = steps[0]!;
        if (flags.pins) await writePins(flags.pins, pinsOf(planned!));
        process.stdout.write((flags.json ? planJson(planned!) : planLines(planned!).join("\n")) + "\n");
        return;
      }
      if (flags.pins) {
        throw new HubmergeError(
          "E_USAGE",
          "--pins needs a one-merge manifest: a mergekit-multi file is not split into parts",
          {
            hint: "plan and merge each document of the file as its own manifest to split it",
          },
        );
      }
      if (flags.json) {
        const json = steps.map(({ step, planned }) => ({
          name: step.name ?? null,
          final: step.final,
          uses: step.uses,
          output: step.manifest.hubmerge.output?.repo ?? null,
          plan: planned ? JSON.parse(planJson(planned)) : null,
        }));
        process.stdout.write(JSON.stringify({ file: graph.file, merges: json }, null, 2) + "\n");
        return;
      }
      process.stdout.write(graphLines(graph.file, steps).join("\n") + "\n");
    },
  );
}

function planJson(planned: PlannedRun): string {
  const { method, ...rest } = planned.plan;
  const json = { method: method.name, manifestWarnings: manifestWarnings(planned.manifest), ...rest };
  return JSON.stringify(json, null, 2);
}

function planLines({ plan, manifest, chatTemplate }: PlannedRun): string[] {
  const merged = plan.recipes.filter((r) => r.action === "merge").length;
  return [
    `${manifest.file}: ${plan.method.prettyName} (${plan.method.name})`,
    `reference model: ${plan.referenceModel}`,
    `tensors: ${plan.recipes.length} (${merged} merged, ${plan.recipes.length - merged} copied)`,
    ...(plan.modules ?? []).map((m) => `module ${m.text}`),
    `reads ${formatBytes(plan.inputBytes)}, writes ${formatBytes(plan.shards.totalSize)} in ${plan.shards.files.length} shard(s), dtype ${plan.torchDtype}`,
    ...(chatTemplate ? [`chat template: ${chatTemplate.origin}`] : []),
    ...[...manifestWarnings(manifest), ...plan.warnings].map((w) => `warning: ${w}`),
  ];
}

/** The merge graph: each merge in run order, what it reads, where it goes, its plan when known. */
function graphLines(file: string, steps: PlannedStep[]): string[] {
  const lines = [`${file}: ${steps.length} merges (mergekit-multi), in the order they run:`];
  steps.forEach(({ step, planned }, i) => {
    const name = step.name ?? "(unnamed)";
    const goes = step.final
      ? "the final merge (--out / --push)"
      : step.manifest.hubmerge.output
        ? `published to ${step.manifest.hubmerge.output.repo} with --push, else a temporary folder`
        : "a temporary folder";
    lines.push(
      `${i + 1}. ${name} (line ${step.pos.line}): ${step.read.method.prettyName} (${step.read.method.name}) → ${goes}`,
    );
    if (step.uses.length > 0) lines.push(`   uses ${step.uses.join(", ")}: planned in full when they exist`);
    if (planned)
      lines.push(
        ...planLines(planned)
          .slice(1)
          .map((line) => `   ${line}`),
      );
  });
  return lines;
}
