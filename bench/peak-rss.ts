/**
 * This process's peak resident memory, for the bench's child processes: VmHWM, which execve
 * resets (ru_maxrss does not: a child forked from a large parent starts with the parent's peak),
 * else ru_maxrss where /proc is absent.
 */
import { readFileSync } from "node:fs";

export function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
