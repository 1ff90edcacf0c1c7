/**
 * `npm run bench -- --parts`: one merge split over N simulated runners. For each N (1, 2, 4 by
 * default) N processes each run `merge --part I/N --push` at once, each through its own local Hub
 * paced like one runner's link (the issue's CDN link: 10 MB/s per connection, 80 MB/s in total,
 * 20 ms, scaled by --scale). The N Hubs serve one storage folder, so every runner reads the same
 * repos and its uploads land in the same object store, as on the real Hub. Then one process runs
 * `publish --parts` through one paced Hub. Reports wall time against N = 1 and each N's time
 * against its link ideal; asserts nothing about time.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LinkPacing, LocalHub } from "../src/localhub/index.js";
import { writePins } from "../src/parts/pins.js";
import { closeModels, pinsOf, planRun } from "../src/pipeline/index.js";
import { createSourceResolver } from "../src/source/hub-resolver.js";
import {
  BENCH_TOKEN,
  benchModels,
  childBeside,
  FINE_TUNES,
  LINK_DIMENSIONS,
  MANIFEST,
  runChild as runChildScript,
  seedHub,
  startBenchHub,
} from "./fixture.js";
import { scaledLink } from "./link.js";
import { readFlags, parseSize } from "./options.js";
import { PARTS_RESULT_PREFIX, type PartsChildConfig, type PartsChildResult } from "./parts-child.js";
import { modelBytes } from "./synth-models.js";

const CHILD = childBeside(import.meta.url, "parts-child");
const MB = 1e6;

export interface PartsBenchOptions {
  /** Bytes per model (base + 2 fine-tunes). */
  size: number;
  counts: number[];
  shardBytes: number;
  connections: number;
  readAheadBytes: number;
  scale: number;
  dir: string;
  keep: boolean;
}

const USAGE = `usage: npm run bench -- --parts [--size 20MB] [--counts 1,2,4] [--shard-size 3MB] [--connections 16] [--read-ahead 256MB] [--scale 0.25] [--dir PATH] [--keep]`;

export function parsePartsOptions(argv: string[]): PartsBenchOptions {
  const flags = readFlags(argv, USAGE, ["--keep"]);
  const counts = String(flags.get("--counts") ?? "1,2,4")
    .split(",")
    .map((n) => Number(n));
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--counts takes whole numbers ≥ 1\n${USAGE}`);
  const scale = Number(flags.get("--scale") ?? 0.25);
  if (!(scale > 0)) throw new Error(`--scale must be > 0\n${USAGE}`);
  return {
    size: parseSize(String(flags.get("--size") ?? "20MB")),
    counts,
    shardBytes: parseSize(String(flags.get("--shard-size") ?? "3MB")),
    connections: Number(flags.get("--connections") ?? 16),
    readAheadBytes: parseSize(String(flags.get("--read-ahead") ?? "256MB")),
    scale,
    dir: String(flags.get("--dir") ?? join(tmpdir(), "hubmerge-bench-parts")),
    keep: flags.has("--keep"),
  };
}

/** One N: the parts' wall time (all N at once), the publish after them, and the link's bytes. */
export interface PartsRow {
  count: number;
  partsSeconds: number;
  publishSeconds: number;
  /** Bytes the slowest-loaded runner's Hub sent and received. */
  maxPulled: number;
  maxPushed: number;
  pulled: number;
  pushed: number;
  maxRssBytes: number;
}

export interface PartsReport {
  rows: PartsRow[];
  link: Required<LinkPacing>;
  text: string;
}

const runChild = (config: PartsChildConfig) =>
  runChildScript<PartsChildResult>(CHILD, config, PARTS_RESULT_PREFIX, "parts child");

/** Seeds the sources and one empty output repo per N, and writes each N's manifest and pins. */
async function seed(hubDir: string, work: string, folders: string[], counts: number[]) {
  const hub = await startBenchHub(hubDir);
  const manifests = new Map<number, { manifestPath: string; pinsPath: string }>();
  try {
    const refs = await seedHub(hub, folders);
    const resolver = createSourceResolver({ hub: { hubUrl: hub.url, token: BENCH_TOKEN } });
    for (const count of counts) {
      // A repo per N: otherwise the second N would find every shard already uploaded.
      await hub.admin.createRepo(`bench/parts-${count}`);
      const manifestPath = join(work, `parts-${count}.yaml`);
      await writeFile(manifestPath, MANIFEST(refs, `{seed: 1234, output: {repo: bench/parts-${count}}}`));
      const planned = await planRun({ manifestPath, resolver, check: false });
      await closeModels(planned.models);
      const pinsPath = join(work, `pins-${count}.json`);
      await writePins(pinsPath, pinsOf(planned));
      manifests.set(count, { manifestPath, pinsPath });
    }
  } finally {
    await hub.close();
  }
  return manifests;
}

async function measureCount(
  count: number,
  files: { manifestPath: string; pinsPath: string },
  hubDir: string,
  work: string,
  options: PartsBenchOptions,
  link: Required<LinkPacing>,
): Promise<PartsRow> {
  // Started one after another before any runs: each Hub's startup sweep sees a quiet folder.
  const hubs: LocalHub[] = [];
  for (let i = 0; i < count; i++) hubs.push(await startBenchHub(hubDir, link));
  const partsDir = join(work, `parts-${count}`);
  const common = {
    manifestPath: files.manifestPath,
    token: BENCH_TOKEN,
    connections: options.connections,
    readAheadBytes: options.readAheadBytes,
    maxShardBytes: options.shardBytes,
  };
  let partsSeconds: number;
  let results: PartsChildResult[];
  try {
    const started = performance.now();
    results = await Promise.all(
      hubs.map((hub, i) =>
        runChild({
          ...common,
          mode: "part",
          hubUrl: hub.url,
          out: join(partsDir, `part-${i + 1}`),
          part: { index: i + 1, count },
          pinsPath: files.pinsPath,
        }),
      ),
    );
    partsSeconds = (performance.now() - started) / 1000;
  } finally {
    await Promise.all(hubs.map((hub) => hub.close()));
  }
  const pulled = hubs.map((h) => h.link.bytesSent);
  const pushed = hubs.map((h) => h.link.bytesReceived);
  const publisher = await startBenchHub(hubDir, link);
  let publish: PartsChildResult;
  try {
    publish = await runChild({ ...common, mode: "publish", hubUrl: publisher.url, out: partsDir });
  } finally {
    await publisher.close();
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    count,
    partsSeconds,
    publishSeconds: publish.seconds,
    maxPulled: Math.max(...pulled),
    maxPushed: Math.max(...pushed),
    pulled: sum(pulled),
    pushed: sum(pushed),
    maxRssBytes: Math.max(publish.maxRssBytes, ...results.map((r) => r.maxRssBytes)),
  };
}

export async function runPartsBench(
  options: PartsBenchOptions,
  log: (line: string) => void = console.log,
): Promise<PartsReport> {
  const { shape, folders } = await benchModels({
    dir: options.dir,
    size: options.size,
    dimensions: LINK_DIMENSIONS,
    prefix: "parts",
  });
  const work = await mkdtemp(join(tmpdir(), "hubmerge-parts-run-"));
  const link = scaledLink(options.scale);
  const hubDir = join(work, "hub");
  const rows: PartsRow[] = [];
  try {
    const manifests = await seed(hubDir, work, folders, options.counts);
    log(`models: base + ${FINE_TUNES} fine-tunes, bf16, ${(modelBytes(shape) / MB).toFixed(0)} MB each`);
    for (const count of options.counts) {
      const row = await measureCount(count, manifests.get(count)!, hubDir, work, options, link);
      log(
        `  measured: ${count} runner(s) (${row.partsSeconds.toFixed(2)} s + publish ${row.publishSeconds.toFixed(2)} s)`,
      );
      rows.push(row);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    if (!options.keep) await rm(options.dir, { recursive: true, force: true });
  }
  const text = renderParts(rows, options, link);
  log(text);
  return { rows, link, text };
}

/** A runner's link ideal: its larger direction at the total rate (each direction is paced apart). */
export const runnerIdeal = (row: PartsRow, link: Required<LinkPacing>) =>
  Math.max(row.maxPulled, row.maxPushed) / link.total;

function renderParts(rows: PartsRow[], options: PartsBenchOptions, link: Required<LinkPacing>): string {
  const base = rows.find((r) => r.count === 1) ?? rows[0];
  const total = (r: PartsRow) => r.partsSeconds + r.publishSeconds;
  const lines = [
    `each runner: its own Hub paced ${link.perConnection / MB} MB/s per connection, ${link.total / MB} MB/s total, ${link.latencyMs} ms; ${options.connections} connections; ${options.shardBytes / MB} MB shards`,
    "",
    "| runners N | parts: wall s | busiest runner: pulled MB / pushed MB | × its link ideal | publish --parts s | total s | speed-up vs N = 1 | all runners pulled MB | peak RSS MB |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.count,
        r.partsSeconds.toFixed(2),
        `${(r.maxPulled / MB).toFixed(1)} / ${(r.maxPushed / MB).toFixed(1)}`,
        `${(r.partsSeconds / runnerIdeal(r, link)).toFixed(2)}×`,
        r.publishSeconds.toFixed(2),
        total(r).toFixed(2),
        base ? `${(total(base) / total(r)).toFixed(2)}×` : "—",
        (r.pulled / MB).toFixed(1),
        (r.maxRssBytes / MB).toFixed(0),
      ].join(" | ")} |`,
    );
  }
  return ["", ...lines, ""].join("\n");
}
