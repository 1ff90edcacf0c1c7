import { getOctokit } from "@actions/github";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitLockfile, LOCK_BRANCH, type LockCommitInput } from "../../src/action/lock-commit.js";
import { mergeLockEntries } from "../../src/action/record-lock.js";
import { HubmergeError } from "../../src/errors.js";
import type { LockEntry } from "../../src/lock/lockfile.js";
import { startLocalGitHub, type LocalGitHub } from "../support/github/index.js";

const REPO = "acme/merges";
const TOKEN = "ghs_writer";
const READ_ONLY = "ghs_reader";

let github: LocalGitHub;

beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [TOKEN, { token: READ_ONLY, readOnly: true }] });
  github.seedRepo(REPO, { files: { "merges/a.yaml": "a\n", "merges/b.yaml": "b\n" } });
});

afterEach(async () => {
  await github.close();
});

function entry(repo: string, digit: string): LockEntry {
  return {
    manifestSha256: digit.repeat(64),
    seed: "1",
    tool: "hubmerge@0.1.0",
    sources: { "acme/base": digit.repeat(40) },
    output: { repo, commit: digit.repeat(40), files: {} },
  };
}

/** Plain clients (no retry plugin): the failure paths are tested without its waits. */
function input(
  entries: Record<string, LockEntry>,
  overrides: Partial<LockCommitInput> = {},
): LockCommitInput {
  return {
    github: getOctokit(TOKEN, { baseUrl: github.url }),
    repo: { owner: "acme", repo: "merges" },
    branch: "main",
    path: "hubmerge.lock.json",
    update: (current) => mergeLockEntries(current, entries),
    message: "hubmerge: lock",
    mode: "commit",
    ...overrides,
  };
}

function lockOn(branch?: string): Record<string, unknown> {
  return JSON.parse(github.readFile(REPO, "hubmerge.lock.json", branch)!).manifests;
}

describe("committing the lockfile", () => {
  it("merges concurrent runs' entries at the branch head instead of overwriting them", async () => {
    const runs = ["a", "b", "c"].map((name, i) =>
      commitLockfile(input({ [`merges/${name}.yaml`]: entry(`acme/${name}`, String(i + 1)) })),
    );
    const results = await Promise.all(runs);
    expect(results.every((r) => r.commitSha)).toBe(true);
    expect(Object.keys(lockOn())).toEqual(["merges/a.yaml", "merges/b.yaml", "merges/c.yaml"]);
  });

  it("makes no commit when the branch already records this run's entries", async () => {
    const entries = { "merges/a.yaml": entry("acme/a", "1") };
    await commitLockfile(input(entries));
    const commits = github.commits(REPO).length;
    const again = await commitLockfile(input(entries));
    expect(again.commitSha).toBeUndefined();
    expect(again.content).toBe(github.readFile(REPO, "hubmerge.lock.json"));
    expect(github.commits(REPO)).toHaveLength(commits);
  });

  it("collects every run's entries in the open lock pull request", async () => {
    const pr = { mode: "pull-request" as const };
    const first = await commitLockfile(input({ "merges/a.yaml": entry("acme/a", "1") }, pr));
    const second = await commitLockfile(input({ "merges/b.yaml": entry("acme/b", "2") }, pr));
    expect(second.pullRequestUrl).toBe(first.pullRequestUrl);
    expect(github.pulls(REPO)).toHaveLength(1);
    expect(Object.keys(lockOn(LOCK_BRANCH))).toEqual(["merges/a.yaml", "merges/b.yaml"]);
    expect(github.readFile(REPO, "hubmerge.lock.json")).toBeUndefined();
  });

  it("turns a refused write into E_USAGE naming contents: write", async () => {
    const error = await commitLockfile(
      input(
        { "merges/a.yaml": entry("acme/a", "1") },
        { github: getOctokit(READ_ONLY, { baseUrl: github.url }) },
      ),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubmergeError);
    expect((error as HubmergeError).code).toBe("E_USAGE");
    expect((error as HubmergeError).message).toMatch(/could not create the lockfile blob on main .*HTTP 403/);
    expect((error as HubmergeError).hint).toContain("permissions: contents: write");
  });

  it("turns a server error in any Git Data call into E_NETWORK saying which call", async () => {
    github.faults.set([{ method: "POST", pathIncludes: "/git/trees", status: 500 }]);
    const error = await commitLockfile(input({ "merges/a.yaml": entry("acme/a", "1") })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HubmergeError);
    expect((error as HubmergeError).code).toBe("E_NETWORK");
    expect((error as HubmergeError).message).toMatch(/could not create the tree on main .*HTTP 500/);
  });

  it("refuses when the lockfile's path holds a folder", async () => {
    github.seedRepo(REPO, { files: { "hubmerge.lock.json/x": "x\n" } });
    const error = await commitLockfile(input({ "merges/a.yaml": entry("acme/a", "1") })).catch(
      (e: unknown) => e,
    );
    expect((error as HubmergeError).message).toBe("hubmerge.lock.json on main is not a file");
  });

  it("refuses to merge into a lockfile that is not valid JSON", () => {
    expect(() => mergeLockEntries("<<<<<<< HEAD\n", {})).toThrow(/not valid JSON/);
  });
});
