import { HubmergeError } from "../errors.js";
import type { GitHubClient, RepoRef } from "./octokit.js";

/** The branch lock updates go to in `pull-request` mode. */
export const LOCK_BRANCH = "hubmerge/lock-update";

export interface LockCommitInput {
  github: GitHubClient;
  repo: RepoRef;
  branch: string;
  path: string;
  content: string;
  message: string;
  mode: "commit" | "pull-request";
}

export interface LockCommitResult {
  commitSha: string;
  pullRequestUrl?: string;
}

/**
 * Commits the lockfile through the Git Data API (blob → tree → commit → ref), so no checkout is
 * needed and the commit is verified. Commits made with GITHUB_TOKEN start no workflow runs, and
 * the `[skip ci]` marker stops runs for other tokens, so a lock commit cannot loop.
 */
export async function commitLockfile(input: LockCommitInput): Promise<LockCommitResult> {
  if (input.mode === "commit") return { commitSha: await commitOnBranch(input, input.branch, false) };
  const base = await headOf(input, input.branch);
  const existing = await headOf(input, LOCK_BRANCH).catch(() => undefined);
  if (existing === undefined) {
    await input.github.rest.git.createRef({ ...input.repo, ref: `refs/heads/${LOCK_BRANCH}`, sha: base });
  } else {
    // Start the update branch afresh from the base branch: it only ever holds the latest lock.
    await input.github.rest.git.updateRef({
      ...input.repo,
      ref: `heads/${LOCK_BRANCH}`,
      sha: base,
      force: true,
    });
  }
  const commitSha = await commitOnBranch(input, LOCK_BRANCH, true);
  const open = await input.github.rest.pulls.list({
    ...input.repo,
    head: `${input.repo.owner}:${LOCK_BRANCH}`,
    base: input.branch,
    state: "open",
  });
  const url =
    open.data[0]?.html_url ??
    (
      await input.github.rest.pulls.create({
        ...input.repo,
        head: LOCK_BRANCH,
        base: input.branch,
        title: "hubmerge: update lockfile",
        body: "The merged models were published; this records the source revisions they were built from.",
      })
    ).data.html_url;
  return { commitSha, pullRequestUrl: url };
}

/** One commit on top of the branch head; if the branch moved meanwhile, rebuilt on the new head. */
async function commitOnBranch(input: LockCommitInput, branch: string, force: boolean): Promise<string> {
  const { github, repo } = input;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const parent = await headOf(input, branch);
    const parentCommit = await github.rest.git.getCommit({ ...repo, commit_sha: parent });
    const blob = await github.rest.git.createBlob({ ...repo, content: input.content, encoding: "utf-8" });
    const tree = await github.rest.git.createTree({
      ...repo,
      base_tree: parentCommit.data.tree.sha,
      tree: [{ path: input.path, mode: "100644", type: "blob", sha: blob.data.sha }],
    });
    const commit = await github.rest.git.createCommit({
      ...repo,
      message: `${input.message}\n\n[skip ci]`,
      tree: tree.data.sha,
      parents: [parent],
    });
    try {
      await github.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit.data.sha, force });
      return commit.data.sha;
    } catch (error) {
      if ((error as { status?: number }).status !== 422 || attempt === 3) throw wrap(error, branch);
    }
  }
  throw new HubmergeError("E_INTERNAL", "unreachable");
}

async function headOf(input: LockCommitInput, branch: string): Promise<string> {
  const ref = await input.github.rest.git.getRef({ ...input.repo, ref: `heads/${branch}` });
  return ref.data.object.sha;
}

function wrap(error: unknown, branch: string): HubmergeError {
  return new HubmergeError(
    "E_NETWORK",
    `could not update ${branch} with the lockfile: ${(error as Error).message}`,
    {
      hint: "give the workflow `permissions: contents: write`, or set lock-update: pull-request for protected branches",
      cause: error,
    },
  );
}
