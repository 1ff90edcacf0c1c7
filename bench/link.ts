/**
 * `npm run bench -- --link`: a merge from a paced local Hub (10 MB/s per connection, 80 MB/s in
 * total, 20 ms to the first byte, LFS files redirected to its CDN origin as on the real Hub), at
 * 1, 4 and 16 connections, against the link's ideal time (bytes pulled ÷ total rate). Reports
 * the bytes pulled against the bytes of the tensors read, and the peak RSS against the read-ahead
 * budget. Each merge runs in its own process; the Hub runs in this one and counts what it sends.
 * Asserts nothing about time; the output weights must be identical for every connection count.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { LinkPacing, LocalHub } from "../src/localhub/index.js";
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
import { LINK_RESULT_PREFIX, type LinkChildConfig, type LinkChildResult } from "./link-child.js";
import { readFlags, parseSize } from "./options.js";
import { modelBytes } from "./synth-models.js";

const CHILD = childBeside(import.meta.url, "link-child");
/** The issue's link: a CDN as a runner sees it. */
export const LINK: Required<LinkPacing> = { perConnection: 10e6, total: 80e6, latencyMs: 20 };

export function scaledLink(scale: number): Required<LinkPacing> {
  if (!(scale > 0)) throw new Error(`--scale must be > 0, got ${scale}`);
  return { perConnection: LINK.perConnection * scale, total: LINK.total * scale, latencyMs: LINK.latencyMs };
}
const MB = 1e6;

export interface LinkBenchOptions {
  /** Bytes per model (base + 2 fine-tunes are merged). */
  size: number;
  connections: number[];
  readAheadBytes: number;
  threads?: number;
  /** Output shard size limit: small, so that publishing has several shards to overlap. */
  shardBytes: number;
  /** Multiplies both rates (latency unchanged): a machine too slow to move 80 MB/s still measures the link's use. */
  scale: number;
  dir: string;
  keep: boolean;
}

const USAGE = `usage: npm run bench -- --link [--size 60MB] [--connections 1,4,16] [--read-ahead 1GiB] [--threads N] [--shard-size 8MB] [--scale 1] [--dir PATH] [--keep]
  --scale   multiplies the per-connection and total rates (e.g. 0.25 on a machine that cannot move 80 MB/s)`;

export function parseLinkOptions(argv: string[]): LinkBenchOptions {
  const flags = readFlags(argv, USAGE, ["--keep"]);
  const readAhead = String(flags.get("--read-ahead") ?? "1GiB");
  const gib = /^(\d+(?:\.\d+)?)\s*GiB$/i.exec(readAhead);
  const mib = /^(\d+(?:\.\d+)?)\s*MiB$/i.exec(readAhead);
  return {
    size: parseSize(String(flags.get("--size") ?? "60MB")),
    connections: String(flags.get("--connections") ?? "1,4,16")
      .split(",")
      .map((n) => Number(n)),
    readAheadBytes: gib ? Number(gib[1]) * 2 ** 30 : mib ? Number(mib[1]) * 2 ** 20 : parseSize(readAhead),
    threads: flags.has("--threads") ? Number(flags.get("--threads")) : undefined,
    shardBytes: parseSize(String(flags.get("--shard-size") ?? "8MB")),
    scale: Number(flags.get("--scale") ?? 1),
    dir: String(flags.get("--dir") ?? join(tmpdir(), "hubmerge-bench-link")),
    keep: flags.has("--keep"),
  };
}

/** One connection count: the reads alone, then the whole merge. */
export interface LinkRow {
  connections: number;
  download: LinkChildResult;
  /** Body bytes the Hub sent for the reads alone (headers, configs and tensors). */
  downloadPulled: number;
  merge: LinkChildResult;
  /** Body bytes the Hub sent for the whole merge (with the compatibility check's samples). */
  mergePulled: number;
}

/** A publishing run over the link: what it pulled and pushed, and its ideal time. */
export interface PublishRow {
  seconds: number;
  pulled: number;
  pushed: number;
  /** Publish: pushed ÷ total rate; merge + publish: max(pulled, pushed) ÷ total + largest shard ÷ per-connection rate. */
  ideal: number;
  /** The part of `ideal` that is one shard's upload (0 for publish). */
  shardSeconds: number;
  maxRssBytes: number;
}

export interface LinkReport {
  rows: LinkRow[];
  publish: PublishRow;
  mergePublish: PublishRow;
  /** The same merge from local folders: what this machine's merge costs without a link. */
  local: LinkChildResult;
  modelBytes: number;
  text: string;
}

/** Uploads the models to a fresh paced Hub in CDN mode, repos `bench/base`, `bench/ft1`, … */
async function startPacedHub(
  dir: string,
  folders: string[],
  link: Required<LinkPacing>,
): Promise<{ hub: LocalHub; refs: string[] }> {
  const hub = await startBenchHub(join(dir, "hub"));
  const refs = await seedHub(hub, folders);
  // Paced only once the models are in: seeding goes through the admin API, not the link.
  hub.link.set(link);
  return { hub, refs };
}

const runChild = (config: LinkChildConfig) =>
  runChildScript<LinkChildResult>(CHILD, config, LINK_RESULT_PREFIX, "link child");

export async function runLinkBench(
  options: LinkBenchOptions,
  log: (line: string) => void = console.log,
): Promise<LinkReport> {
  const { shape, folders } = await benchModels({
    dir: options.dir,
    size: options.size,
    dimensions: LINK_DIMENSIONS,
    prefix: "link",
  });
  const work = await mkdtemp(join(tmpdir(), "hubmerge-link-run-"));
  const link = scaledLink(options.scale);
  const { hub, refs } = await startPacedHub(work, folders, link);
  log(
    `models: base + ${FINE_TUNES} fine-tunes, bf16, ${(modelBytes(shape) / MB).toFixed(0)} MB each, on ${hub.url} (CDN ${hub.cdn!.url})`,
  );
  const rows: LinkRow[] = [];
  let local: LinkChildResult;
  let publishing: { publish: PublishRow; mergePublish: PublishRow };
  try {
    const localManifest = join(work, "local.yaml");
    // Local model paths must be relative to the manifest (absolute ones are refused).
    await writeFile(localManifest, MANIFEST(folders.map((f) => relative(work, f))));
    const common = {
      threads: options.threads,
      readAheadBytes: options.readAheadBytes,
      maxShardBytes: options.shardBytes,
    };
    local = await runChild({ ...common, manifestPath: localManifest, out: join(work, "out-local") });
    log(`  measured: local folders (${local.seconds.toFixed(2)} s)`);
    const manifestPath = join(work, "hub.yaml");
    await writeFile(manifestPath, MANIFEST(refs));
    const pulled = async (config: LinkChildConfig) => {
      hub.link.resetCounts();
      const result = await runChild(config);
      return { result, bytes: hub.link.bytesSent };
    };
    for (const connections of options.connections) {
      const remote = { ...common, manifestPath, hubUrl: hub.url, connections };
      const download = await pulled({ ...remote, mode: "download", out: "" });
      log(`  measured: reads alone, ${connections} connection(s) (${download.result.seconds.toFixed(2)} s)`);
      const merge = await pulled({ ...remote, out: join(work, `out-${connections}`) });
      log(`  measured: merge, ${connections} connection(s) (${merge.result.seconds.toFixed(2)} s)`);
      rows.push({
        connections,
        download: download.result,
        downloadPulled: download.bytes,
        merge: merge.result,
        mergePulled: merge.bytes,
      });
    }
    const connections = options.connections[options.connections.length - 1];
    const remote = { ...common, hubUrl: hub.url, connections, token: BENCH_TOKEN };
    publishing = await measurePublishing(hub, work, refs, link, { ...remote, manifestPath }, log);
  } finally {
    await hub.close();
    await rm(work, { recursive: true, force: true });
    if (!options.keep) await rm(options.dir, { recursive: true, force: true });
  }
  const text = renderLink(rows, local, options, link, publishing);
  log(text);
  return { rows, local, ...publishing, modelBytes: modelBytes(shape), text };
}

/** Sizes of the safetensors shards in a folder. */
async function shardSizes(dir: string): Promise<number[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".safetensors"));
  return Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
}

/**
 * Publish alone (the merge of the last row, uploaded to a fresh repo), then merge + publish in
 * one run to another fresh repo with another seed, so that no shard is already on the Hub.
 */
async function measurePublishing(
  hub: LocalHub,
  work: string,
  refs: string[],
  link: Required<LinkPacing>,
  remote: Omit<LinkChildConfig, "out">,
  log: (line: string) => void,
): Promise<{ publish: PublishRow; mergePublish: PublishRow }> {
  const counted = async (config: LinkChildConfig) => {
    hub.link.resetCounts();
    const result = await runChild(config);
    return { result, pulled: hub.link.bytesSent, pushed: hub.link.bytesReceived };
  };
  const published = join(work, `out-${remote.connections}`);
  const pub = await counted({ ...remote, mode: "publish", out: published, repo: "bench/published" });
  log(`  measured: publish (${pub.result.seconds.toFixed(2)} s)`);
  const manifestPath = join(work, "hub-push.yaml");
  await writeFile(manifestPath, MANIFEST(refs, "{seed: 4321, output: {repo: bench/merged}}"));
  const out = join(work, "out-push");
  const both = await counted({ ...remote, manifestPath, mode: "merge-publish", out });
  log(`  measured: merge + publish (${both.result.seconds.toFixed(2)} s)`);
  const shard = Math.max(...(await shardSizes(out)));
  const row = (r: typeof pub, ideal: number, shardSeconds: number): PublishRow => ({
    seconds: r.result.seconds,
    pulled: r.pulled,
    pushed: r.pushed,
    ideal: ideal + shardSeconds,
    shardSeconds,
    maxRssBytes: r.result.maxRssBytes,
  });
  return {
    publish: row(pub, pub.pushed / link.total, 0),
    mergePublish: row(both, Math.max(both.pulled, both.pushed) / link.total, shard / link.perConnection),
  };
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);
const times = (seconds: number, ideal: number) => `${(seconds / ideal).toFixed(2)}×`;

function renderLink(
  rows: LinkRow[],
  local: LinkChildResult,
  options: LinkBenchOptions,
  link: Required<LinkPacing>,
  publishing: { publish: PublishRow; mergePublish: PublishRow },
): string {
  const header = `link: ${link.perConnection / MB} MB/s per connection, ${link.total / MB} MB/s total, ${link.latencyMs} ms to first byte, LFS files through CDN redirects; read-ahead budget ${(options.readAheadBytes / 2 ** 20).toFixed(0)} MiB`;
  const lines = [
    "| connections | reads alone: s (planning s) | × link ideal | tensor reads × their ideal | pulled ÷ tensor bytes | merge: s (planning s) | × link ideal | × max(ideal, local merge) | pulled MB | read-ahead peak MB | peak RSS MB |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    const readIdeal = row.downloadPulled / link.total;
    const mergeIdeal = row.mergePulled / link.total;
    lines.push(
      `| ${[
        row.connections,
        `${row.download.seconds.toFixed(2)} (${row.download.planSeconds.toFixed(2)})`,
        times(row.download.seconds, readIdeal),
        // After planning: the tensor bytes alone against what the link could carry.
        times(row.download.seconds - row.download.planSeconds, row.download.tensorBytes / link.total),
        `${(row.downloadPulled / row.download.tensorBytes).toFixed(4)}×`,
        `${row.merge.seconds.toFixed(2)} (${row.merge.planSeconds.toFixed(2)})`,
        times(row.merge.seconds, mergeIdeal),
        times(row.merge.seconds, Math.max(mergeIdeal, local.seconds)),
        mb(row.mergePulled),
        mb(row.merge.readAheadPeakBytes),
        (row.merge.maxRssBytes / MB).toFixed(0),
      ].join(" | ")} |`,
    );
  }
  const { publish, mergePublish } = publishing;
  const publishLine = (label: string, r: PublishRow, againstLocal: string) =>
    `| ${label} |${" — |".repeat(4)} ${r.seconds.toFixed(2)} | ${times(r.seconds, r.ideal)} | ${againstLocal} | ${mb(r.pulled)} (pushed ${mb(r.pushed)}) | — | ${(r.maxRssBytes / MB).toFixed(0)} |`;
  lines.push(
    publishLine("publish to a paced Hub", publish, "—"),
    publishLine(
      "merge + publish together",
      mergePublish,
      times(mergePublish.seconds, Math.max(mergePublish.ideal, local.seconds)),
    ),
  );
  // DARE masks are keyed by the model references, so only the Hub merges are compared.
  const hashes = new Set(rows.map((r) => r.merge.outputHash));
  const last = rows[rows.length - 1];
  const peakRss = Math.max(...rows.map((r) => r.merge.maxRssBytes));
  const readRatio = Math.max(...rows.map((r) => r.downloadPulled / r.download.tensorBytes));
  const notes = [
    `merge from local folders (no link): ${local.seconds.toFixed(2)} s, peak RSS ${(local.maxRssBytes / MB).toFixed(0)} MB`,
    `tensor bytes read: ${mb(last?.merge.tensorBytes ?? 0)} MB; the merge also pulls headers, configs and the compatibility check's samples (up to 4 MiB per model)`,
    `publish rows: ${options.shardBytes / MB} MB shards; "× link ideal" is pushed ÷ total rate for publish, and max(pulled, pushed) ÷ total rate + the largest shard ÷ per-connection rate for merge + publish (ideal ${mergePublish.ideal.toFixed(2)} s)`,
    `output weights identical for every connection count: ${hashes.size === 1 ? "yes" : "NO"}`,
  ];
  const mpBound = 1.3 * (mergePublish.ideal - mergePublish.shardSeconds) + mergePublish.shardSeconds;
  const targets = last
    ? [
        `target merge ≤ 1.3× link ideal at ${last.connections} connections: ${times(last.merge.seconds, last.mergePulled / link.total)} (reads alone ${times(last.download.seconds, last.downloadPulled / link.total)})`,
        `target merge + publish ≤ 1.3× max(down, up ideal) + one shard's upload: ${mergePublish.seconds.toFixed(2)} s vs ${mpBound.toFixed(2)} s ${mergePublish.seconds <= mpBound ? "met" : "NOT met"}`,
        `target pulled ≤ 1.02× tensor bytes + headers (reads alone): ${readRatio.toFixed(4)}× ${readRatio <= 1.02 ? "met" : "NOT met"}`,
        `target peak RSS ≤ read-ahead budget + 300 MB: ${(peakRss / MB).toFixed(0)} MB vs ${((options.readAheadBytes + 300e6) / MB).toFixed(0)} MB ${peakRss <= options.readAheadBytes + 300e6 ? "met" : "NOT met"}`,
      ]
    : [];
  return ["", header, "", ...lines, "", ...notes, ...targets, ""].join("\n");
}
