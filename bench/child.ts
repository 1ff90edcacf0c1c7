/**
 * Runs one benchmark configuration in its own process, so that its peak RSS is its own, and prints
 * one JSON line: the StreamResult plus maxRssBytes.
 *
 *   tsx bench/child.ts '<StreamConfig as JSON>'
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streamMerge, type StreamConfig } from "./stream-merge.js";

export const RESULT_PREFIX = "bench-result ";

/**
 * This process's peak resident memory: VmHWM, which execve resets (ru_maxrss does not: a child
 * forked from a large parent starts with the parent's peak), else ru_maxrss where /proc is absent.
 */
function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

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
