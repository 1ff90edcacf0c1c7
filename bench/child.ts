/**
 * Runs one benchmark configuration in its own process, so that its peak RSS is its own, and prints
 * one JSON line: the StreamResult plus maxRssBytes.
 *
 *   tsx bench/child.ts '<StreamConfig as JSON>'
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peakRss } from "./peak-rss.js";
import { streamMerge, type StreamConfig } from "./stream-merge.js";

export const RESULT_PREFIX = "bench-result ";

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as Omit<StreamConfig, "outDir">;
  const outDir = await mkdtemp(join(tmpdir(), "hubmerge-bench-out-"));
  try {
    const result = await streamMerge({ ...config, outDir });
    const maxRssBytes = peakRss();
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...result, maxRssBytes })}\n`);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

if (/child\.[cm]?[jt]s$/.test(process.argv[1] ?? "")) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
