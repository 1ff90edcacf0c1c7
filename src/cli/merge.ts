import { Option, type Command } from "commander";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import {
  BACKEND_NAMES,
  mergeAndPublish,
  parsePartSpec,
  readMergeGraph,
  readPins,
  runGraph,
  runMerge,
  runPart,
  type BackendName,
  type MergeRunOptions,
  type PartSpec,
  type ReadGraph,
} from "../pipeline/index.js";
import type { HubSession } from "../session.js";
import { addHubFlags, sessionFromFlags, type HubFlags } from "./hub-flags.js";
import { formatBytes } from "../format.js";
import { parsePositiveInt, parseSeed, parseSize, parseSizeOrZero } from "./options.js";
import { progressReporter } from "./progress.js";

interface MergeFlags extends HubFlags {
  out?: string;
  push?: boolean;
  seed?: bigint;
  threads?: number;
  backend?: BackendName;
  shardSize?: number;
  force?: boolean;
  quiet?: boolean;
  allowIncompatible?: boolean;
  allowCrimes?: boolean;
  readAhead?: number;
  part?: PartSpec;
  pins?: string;
  intermediateDir?: string;
}

export function registerMerge(program: Command): void {
  const command = program
    .command("merge")
    .description("merge the models a manifest names into a local folder, and optionally publish it")
    .argument("<manifest>", "merge manifest (mergekit YAML plus an optional hubmerge: block)")
    .option("-o, --out <dir>", "output folder (replaced atomically when the merge completes)")
    .option("--push", "publish the merge to hubmerge.output.repo in one Hub commit")
    .option("--seed <n>", "override the manifest's seed for DARE/DELLA masks", parseSeed)
    .option("--threads <n>", "worker threads for the kernels (default: all cores)", parsePositiveInt)
    .addOption(
      new Option("--backend <name>", "kernels: auto (GPU if present, else wasm), wasm, webgpu or reference")
        .choices(BACKEND_NAMES)
        .default("auto"),
    )
    .option("--shard-size <size>", "largest shard, e.g. 5GB (default) or 500MB", parseSize)
    .option(
      "--read-ahead <size>",
      "memory for Hub reads fetched ahead of the merge, e.g. 2GiB (default 1GiB; 0 turns it off)",
      parseSizeOrZero,
    )
    .option(
      "-I, --intermediate-dir <dir>",
      "keep a multi-merge file's named merges here (default: a temporary folder)",
    )
    .option("--force", "replace an output folder that was not written by hubmerge")
    .option("-q, --quiet", "print only warnings and the summary")
    .option("--allow-incompatible", "merge even when the compatibility check finds blocking problems")
    .addOption(new Option("--allow-crimes", "mergekit's spelling of --allow-incompatible").hideHelp())
    .option(
      "--part <I/N>",
      "merge only part I of N (whole shards; writes a part receipt, --push uploads without committing)",
      parsePartSpec,
    )
    .option("--pins <file>", "source revisions to read (hubmerge plan --pins FILE); required with --part");
  addHubFlags(command).action(async (manifestPath: string, flags: MergeFlags) => {
    if (!flags.out && !flags.push) {
      throw new HubmergeError("E_USAGE", "merge needs --out DIR, --push, or both", {
        hint: "e.g. hubmerge merge merge.yaml --out ./merged",
      });
    }
    const session = sessionFromFlags(flags);
    const graph = await readMergeGraph(manifestPath);
    if (graph.steps.length > 1) {
      await mergeGraph(graph, session, flags);
      return;
    }
    const scratch = flags.out ? undefined : await mkdtemp(join(tmpdir(), "hubmerge-push-"));
    try {
      const options: MergeRunOptions = {
        manifest: graph.steps[0]!.read,
        out: flags.out ?? join(scratch!, "out"),
        seed: flags.seed,
        threads: flags.threads,
        backend: flags.backend,
        force: flags.force,
        maxShardBytes: flags.shardSize,
        readAheadBytes: flags.readAhead,
        allowIncompatible: Boolean(flags.allowIncompatible || flags.allowCrimes),
        resolver: session.resolver,
        lineageOf: session.lineageOf,
        hubUrl: session.hub.hubUrl,
        onEvent: progressReporter(process.stderr, flags.quiet ?? false),
      };
      const publish = {
        hub: session.hub,
        onProgress: (event: { event: string; message?: string }) => {
          if (event.event === "warning") process.stderr.write(`warning: ${event.message}\n`);
        },
      };
      if (flags.part) {
        await mergeOnePart(options, flags, flags.part, flags.push ? publish : undefined);
        return;
      }
      if (flags.pins) {
        throw new HubmergeError("E_USAGE", "--pins goes with --part", {
          hint: "pin a one-process merge in the manifest (org/name@revision)",
        });
      }
      const pushed = flags.push ? await mergeAndPublish({ ...options, publish }) : undefined;
      const result = pushed?.merged ?? (await runMerge(options));
      const { record, plan } = result;
      const total = record.files.reduce((sum, f) => sum + f.size, 0);
      const lines = [
        `merged ${plan.recipes.length} tensors with ${plan.method.prettyName} (${plan.method.name}) in ${result.seconds.toFixed(1)} s on ${result.kernels}`,
        `sources: ${record.sources.map((s) => (s.revision ? `${s.ref}@${s.revision.slice(0, 12)}` : s.ref)).join(", ")}`,
        `seed ${record.seed}, dtype ${record.dtype}, ${record.warnings.length} warning(s)`,
      ];
      if (flags.out)
        lines.push(`wrote ${result.outDir} (${formatBytes(total)} in ${record.files.length} file(s))`);
      if (pushed) {
        const { published, uploads } = pushed;
        lines.push(
          published.unchanged
            ? `${published.url} already holds these bytes at commit ${published.commitSha}: no commit made`
            : `published ${published.url} at commit ${published.commitSha} (${uploads.uploaded} shard(s) uploaded, ${uploads.present} already on the Hub)`,
        );
      }
      process.stdout.write(lines.join("\n") + "\n");
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  });
}

/** `--part I/N`: the part's shards and receipt, uploaded (not committed) with --push. */
async function mergeOnePart(
  options: MergeRunOptions,
  flags: MergeFlags,
  part: PartSpec,
  publish: Parameters<typeof runPart>[0]["publish"],
): Promise<void> {
  if (!flags.out) {
    throw new HubmergeError("E_USAGE", "--part needs --out DIR: the part's receipt is written there", {
      hint: "e.g. --part 1/3 --out part-1 --push; then hubmerge publish MANIFEST --parts .",
    });
  }
  if (!flags.pins) {
    throw new HubmergeError(
      "E_USAGE",
      "--part needs --pins FILE: every part must read the same source revisions",
      {
        hint: "write them once with hubmerge plan MANIFEST --pins pins.json, and pass the file to every part",
      },
    );
  }
  const pins = await readPins(flags.pins);
  const { receipt, outDir, uploads } = await runPart({ ...options, part, pins, publish });
  const bytes = receipt.shards.reduce((sum, s) => sum + s.size, 0);
  const lines = [
    `merged part ${part.index}/${part.count}: ${receipt.shards.map((s) => s.file).join(", ")} (${formatBytes(bytes)})`,
    `wrote ${outDir} with its receipt`,
  ];
  if (uploads)
    lines.push(
      `uploaded ${uploads.uploaded} shard(s), ${uploads.present} already on the Hub; nothing committed`,
    );
  process.stdout.write(lines.join("\n") + "\n");
}

/** A mergekit-multi file: every merge in order; `--push` publishes each one that names an output. */
async function mergeGraph(graph: ReadGraph, session: HubSession, flags: MergeFlags): Promise<void> {
  const final = graph.steps.find((step) => step.final)!;
  if (flags.push && !final.manifest.hubmerge.output) {
    throw new HubmergeError("E_USAGE", "the final merge of this file names no output repo to publish to", {
      where: { file: graph.file, line: final.pos.line },
      hint: "add hubmerge: {output: {repo: org/name}} to the final merge's document",
    });
  }
  const scratch = flags.out ? undefined : await mkdtemp(join(tmpdir(), "hubmerge-push-"));
  try {
    const merged = await runGraph(graph, {
      out: flags.out ?? join(scratch!, "out"),
      intermediateDir: flags.intermediateDir,
      readAheadBytes: flags.readAhead,
      seed: flags.seed,
      threads: flags.threads,
      backend: flags.backend,
      force: flags.force,
      maxShardBytes: flags.shardSize,
      allowIncompatible: Boolean(flags.allowIncompatible || flags.allowCrimes),
      resolver: session.resolver,
      lineageOf: session.lineageOf,
      hubUrl: session.hub.hubUrl,
      onEvent: progressReporter(process.stderr, flags.quiet ?? false),
      onStep: (step, i) =>
        process.stderr.write(`merge ${i + 1}/${graph.steps.length}: ${step.name ?? "(unnamed)"}\n`),
      ...(flags.push && { publish: { hub: session.hub } }),
    });
    const lines = merged.map(({ step, result, published }) => {
      const where = step.final && flags.out ? result.outDir : step.final ? "(final)" : step.name!;
      const pushed = published ? `, published ${published.url} at commit ${published.commitSha}` : "";
      return `${step.name ?? "(unnamed)"}: ${result.plan.recipes.length} tensors with ${result.plan.method.name} in ${result.seconds.toFixed(1)} s → ${where}${pushed}`;
    });
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
