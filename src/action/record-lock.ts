import { context } from "@actions/github";
import { readFile } from "node:fs/promises";
import { HubmergeError } from "../errors.js";
import {
  emptyLockfile,
  LOCKFILE_NAME,
  parseLockfile,
  serializeLockfile,
  type LockEntry,
} from "../lock/lockfile.js";
import { writeFileAtomic } from "../fs-atomic.js";
import type { ActionInputs } from "./inputs.js";
import { commitLockfile } from "./lock-commit.js";
import { createGitHubClient } from "./octokit.js";

/**
 * This run's entries merged into a lockfile text: every other manifest's entry stays as the text
 * has it. Undefined when the text already says exactly this.
 */
export function mergeLockEntries(
  current: string | undefined,
  entries: Record<string, LockEntry>,
): string | undefined {
  const lock = current === undefined ? emptyLockfile() : parseLockfile(current);
  const next = serializeLockfile({ version: 1, manifests: { ...lock.manifests, ...entries } });
  return next === current ? undefined : next;
}

/**
 * Records this run's lock entries. Matrix jobs apply in parallel from one checkout, so the lock is
 * never written from the checkout's copy: each commit re-reads the lockfile at the branch head and
 * merges in only this run's entries (lock-commit.ts retries when the branch moved). With
 * lock-update: none, the workspace copy is updated the same way. Returns a line for the log.
 */
export async function recordLock(
  inputs: ActionInputs,
  entries: Record<string, LockEntry>,
  published: string[],
): Promise<string> {
  if (inputs.lockUpdate === "none") {
    const text = mergeLockEntries(await readLocal(), entries);
    if (text !== undefined) await writeFileAtomic(LOCKFILE_NAME, text);
    return `lockfile updated in the workspace only (lock-update: none)`;
  }
  if (!inputs.githubToken) {
    throw new HubmergeError("E_USAGE", "lock-update needs github-token", {
      hint: "pass github-token, or set lock-update: none",
    });
  }
  const branch = context.ref.startsWith("refs/heads/") ? context.ref.slice("refs/heads/".length) : "main";
  const outcome = await commitLockfile({
    github: createGitHubClient(inputs.githubToken),
    repo: context.repo,
    branch,
    path: LOCKFILE_NAME,
    update: (current) => mergeLockEntries(current, entries),
    message: `hubmerge: lock ${published.join(", ")}`,
    mode: inputs.lockUpdate,
  });
  // Later steps of the job read the lockfile from the workspace: give them what the branch holds.
  if (outcome.content !== undefined) await writeFileAtomic(LOCKFILE_NAME, outcome.content);
  const where = outcome.pullRequestUrl ? ` (${outcome.pullRequestUrl})` : "";
  return outcome.commitSha
    ? `lockfile committed as ${outcome.commitSha}${where}`
    : `the lockfile on ${branch} already records this run${where}`;
}

async function readLocal(): Promise<string | undefined> {
  return readFile(LOCKFILE_NAME, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
}
