/**
 * One merge of the link benchmark in its own process (for its own peak RSS): reads the sources
 * from the Hub at `hubUrl` (or from local folders) and prints one JSON line with the seconds of
 * the merge, the bytes of tensors it read, the read-ahead's peak, a hash of the output weights
 * and the peak RSS.
 *
 *   tsx bench/link-child.ts '<LinkChildConfig as JSON>'
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { inputSpan, plannedInputs, UnitReads } from "../src/merge/unit-reads.js";
import { PIECE_ELEMENTS } from "../src/merge/kernels/request.js";
import { workUnits } from "../src/merge/work-units.js";
import { publishFolder } from "../src/hub/publish/publish.js";
import { closeModels, mergeAndPublish, planRun, runMerge } from "../src/pipeline/index.js";
import { createSourceResolver } from "../src/source/hub-resolver.js";
import { peakRss } from "./peak-rss.js";

export const LINK_RESULT_PREFIX = "link-result ";

export interface LinkChildConfig {
  /**
   * `merge` (default): the whole merge; `download`: only its tensor reads, nothing merged;
   * `publish`: upload the finished folder `out` to `repo`; `merge-publish`: the merge with each
   * shard uploaded while the next merges (`mergeAndPublish`), one commit at the end.
   */
  mode?: "merge" | "download" | "publish" | "merge-publish";
  manifestPath: string;
  out: string;
  /** Unset: the manifest names local folders. */
  hubUrl?: string;
  connections?: number;
  readAheadBytes?: number;
  threads?: number;
  /** Output shard size limit (small: several shards to upload while merging). */
  maxShardBytes?: number;
  /** Write token of the Hub, for the publishing modes. */
  token?: string;
  /** The repo `publish` uploads to (`merge-publish` takes the manifest's output repo). */
  repo?: string;
}

export interface LinkChildResult {
  seconds: number;
  /** Until the first tensor read: resolving, headers, the compatibility check, planning. */
  planSeconds: number;
  tensorBytes: number;
  readAheadPeakBytes: number;
  outputHash: string;
  maxRssBytes: number;
}

async function weightsHash(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".safetensors")).sort()) {
    hash.update(file).update(await readFile(join(dir, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The merge's reads alone, in its order and through its read-ahead, two units in flight as in
 * the pipeline, with nothing merged or written: how fast the read path pulls from the link.
 */
async function downloadOnly(config: LinkChildConfig, resolver: ReturnType<typeof createSourceResolver>) {
  const started = performance.now();
  const planned = await planRun({ manifestPath: config.manifestPath, resolver, check: false });
  const planSeconds = (performance.now() - started) / 1000;
  const byRef = new Map([...planned.models.values()].map((m) => [m.ref, m]));
  const units = workUnits(planned.plan.recipes, () => true, PIECE_ELEMENTS);
  const reads = new UnitReads(units, byRef, config.readAheadBytes);
  reads.start();
  const readUnit = async (u: number) => {
    const unit = units[u]!;
    const slots = plannedInputs(unit.recipe).map((p, slot) => {
      const target = new Uint8Array(inputSpan(unit, byRef.get(p.model)!, p.tensor).bytes);
      return reads.readInto(u, slot, target, () => Promise.reject(new Error("not a Hub read")));
    });
    await Promise.all(slots);
  };
  let next = readUnit(0);
  for (let u = 0; u < units.length; u++) {
    await next;
    if (u + 1 < units.length) next = readUnit(u + 1);
  }
  await reads.close();
  await closeModels(planned.models);
  return { planSeconds, seconds: (performance.now() - started) / 1000, reads };
}

/** Uploads a finished folder, as `hubmerge publish` does after a merge. */
async function publishOnly(config: LinkChildConfig): Promise<number> {
  const started = performance.now();
  await publishFolder({
    hub: { hubUrl: config.hubUrl!, token: config.token },
    repo: config.repo!,
    dir: config.out,
    private: false,
    overwrite: false,
    commitTitle: "bench: publish",
  });
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as LinkChildConfig;
  let reads: UnitReads | undefined;
  const hub = config.hubUrl ? { hubUrl: config.hubUrl, token: config.token } : undefined;
  const resolver = hub ? createSourceResolver({ hub, connections: config.connections }) : undefined;
  let seconds: number;
  let planSeconds = 0;
  const started = performance.now();
  const onEvent = (event: { type: string }) => {
    if (event.type === "start") planSeconds = (performance.now() - started) / 1000;
  };
  const merge = {
    manifestPath: config.manifestPath,
    out: config.out,
    resolver,
    threads: config.threads,
    readAheadBytes: config.readAheadBytes,
    maxShardBytes: config.maxShardBytes,
    onReads: (r: UnitReads) => (reads = r),
    onEvent,
  };
  if (config.mode === "publish") {
    seconds = await publishOnly(config);
  } else if (config.mode === "merge-publish") {
    await mergeAndPublish({ ...merge, force: true, publish: { hub: hub! } });
    seconds = (performance.now() - started) / 1000;
  } else if (config.mode === "download") {
    ({ seconds, planSeconds, reads } = await downloadOnly(config, resolver!));
  } else {
    await runMerge(merge);
    seconds = (performance.now() - started) / 1000;
  }
  const result: LinkChildResult = {
    seconds,
    planSeconds,
    tensorBytes: reads?.totalBytes ?? 0,
    readAheadPeakBytes: reads?.readAhead.peakHeldBytes ?? 0,
    outputHash: config.mode === "download" || config.mode === "publish" ? "" : await weightsHash(config.out),
    maxRssBytes: peakRss(),
  };
  process.stdout.write(`${LINK_RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

if (/link-child\.[cm]?[jt]s$/.test(process.argv[1] ?? "")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
