/**
 * One runner of the parts benchmark in its own process: `merge --part I/N --push` through its own
 * paced Hub (`runPart`), or the final `publish --parts` (`assembleParts`). Prints one JSON line
 * with its seconds and peak RSS.
 *
 *   tsx bench/parts-child.ts '<PartsChildConfig as JSON>'
 */
import { readPins } from "../src/parts/pins.js";
import { assembleParts, runPart } from "../src/pipeline/index.js";
import { createSourceResolver } from "../src/source/hub-resolver.js";
import { peakRss } from "./peak-rss.js";

export const PARTS_RESULT_PREFIX = "parts-result ";

export interface PartsChildConfig {
  mode: "part" | "publish";
  manifestPath: string;
  hubUrl: string;
  token: string;
  /** For a part: its folder; for publish: the folder holding every part's folder. */
  out: string;
  /** A part's `{index, count}` (1-based), and the pins file every part reads. */
  part?: { index: number; count: number };
  pinsPath?: string;
  connections?: number;
  readAheadBytes?: number;
  maxShardBytes?: number;
}

export interface PartsChildResult {
  seconds: number;
  maxRssBytes: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as PartsChildConfig;
  const hub = { hubUrl: config.hubUrl, token: config.token };
  const resolver = createSourceResolver({ hub, connections: config.connections });
  const started = performance.now();
  if (config.mode === "part") {
    await runPart({
      manifestPath: config.manifestPath,
      out: config.out,
      part: config.part!,
      pins: await readPins(config.pinsPath!),
      maxShardBytes: config.maxShardBytes,
      readAheadBytes: config.readAheadBytes,
      resolver,
      publish: { hub },
    });
  } else {
    await assembleParts({
      manifestPath: config.manifestPath,
      partsDir: config.out,
      resolver,
      hubUrl: config.hubUrl,
      publish: { hub },
    });
  }
  const result: PartsChildResult = { seconds: (performance.now() - started) / 1000, maxRssBytes: peakRss() };
  process.stdout.write(`${PARTS_RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

if (/parts-child\.[cm]?[jt]s$/.test(process.argv[1] ?? "")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
