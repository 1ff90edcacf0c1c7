import { HubmergeError } from "../errors.js";
import type { GitHubClient, RepoRef } from "./octokit.js";

/** The branch lock updates go to in `pull-request` mode. */
export const LOCK_BRANCH = "hubmerge/lock-update";

/** Attempts at one commit when the branch keeps moving (parallel matrix jobs all lock at the end). */
const ATTEMPTS = 6;

export interface LockCommitInput {
  github: GitHubClient;
  repo: RepoRef;
  branch: string;
  path: string;
  /**
   * The new file text, computed from the file as it is at the branch head (undefined: no such file);
   * undefined when nothing would change. Called again on each attempt, so that a run never
   * overwrites what another run committed meanwhile.
   */
  update(current: string | undefined): string | undefined;
  message: string;
  mode: "commit" | "pull-request";
}

export interface LockCommitResult {
  /** The commit made; undefined when the branch already held what `update` wanted. */
  commitSha?: string;
  /** The file as committed (or as found, when nothing changed). */
  content?: string;
  pullRequestUrl?: string;
}

/**
 * Commits the lockfile through the Git Data API (blob → tree → commit → ref), so no checkout is
 * needed and the commit is verified. Each attempt re-reads the file at the branch head and lets
 * `update` merge this run's entries into it; a ref that moved meanwhile (422) means "again". Commits
 * made with GITHUB_TOKEN start no workflow runs, and `[skip ci]` stops runs for other tokens.
 * Every GitHub error becomes a HubmergeError that says which permission is missing.
 */
export async function commitLockfile(input: LockCommitInput): Promise<LockCommitResult> {
  if (input.mode === "commit") return commitOnBranch(input, input.branch);
  const open = await call(input.branch, "list the lock pull requests", () =>
    input.github.rest.pulls.list({
      ...input.repo,
      head: `${input.repo.owner}:${LOCK_BRANCH}`,
      base: input.branch,
      state: "open",
    }),
  );
  // An open lock pull request collects every run's entries until it is merged; otherwise the
  // update branch starts afresh from the base branch, so it never carries a merged PR's history.
  if (open.data[0] === undefined) await resetLockBranch(input);
  const result = await commitOnBranch(input, LOCK_BRANCH);
  const url =
    open.data[0]?.html_url ??
    (
      await call(input.branch, "open the lock pull request", () =>
        input.github.rest.pulls.create({
          ...input.repo,
          head: LOCK_BRANCH,
          base: input.branch,
          title: "hubmerge: update lockfile",
          body: "The merged models were published; this records the source revisions they were built from.",
        }),
      )
    ).data.html_url;
  return { ...result, pullRequestUrl: url };
}

async function resetLockBranch(input: LockCommitInput): Promise<void> {
  const base = await headOf(input, input.branch);
  const existing = await headOf(input, LOCK_BRANCH).catch(() => undefined);
  await call<unknown>(LOCK_BRANCH, "point the lock branch at the base branch", () =>
    existing === undefined
      ? input.github.rest.git.createRef({ ...input.repo, ref: `refs/heads/${LOCK_BRANCH}`, sha: base })
      : input.github.rest.git.updateRef({
          ...input.repo,
          ref: `heads/${LOCK_BRANCH}`,
          sha: base,
          force: true,
        }),
  );
}

/** One commit on top of the branch head; if the branch moved meanwhile, rebuilt on the new head. */
async function commitOnBranch(input: LockCommitInput, branch: string): Promise<LockCommitResult> {
  const { github, repo } = input;
  for (let attempt = 1; ; attempt++) {
    const parent = await headOf(input, branch);
    const current = await fileAt(input, branch, parent);
    const content = input.update(current);
    if (content === undefined) return { content: current };
    const parentCommit = await call(branch, "read the branch head commit", () =>
      github.rest.git.getCommit({ ...repo, commit_sha: parent }),
    );
    const blob = await call(branch, "create the lockfile blob", () =>
      github.rest.git.createBlob({ ...repo, content, encoding: "utf-8" }),
    );
    const tree = await call(branch, "create the tree", () =>
      github.rest.git.createTree({
        ...repo,
        base_tree: parentCommit.data.tree.sha,
        tree: [{ path: input.path, mode: "100644", type: "blob", sha: blob.data.sha }],
      }),
    );
    const commit = await call(branch, "create the commit", () =>
      github.rest.git.createCommit({
        ...repo,
        message: `${input.message}\n\n[skip ci]`,
        tree: tree.data.sha,
        parents: [parent],
      }),
    );
    try {
      await github.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit.data.sha });
      return { commitSha: commit.data.sha, content };
    } catch (error) {
      // 422: not a fast-forward, i.e. another run committed first; merge into its lockfile instead.
      if (statusOf(error) !== 422 || attempt >= ATTEMPTS) throw wrap(error, branch, "move the branch");
    }
  }
}

async function headOf(input: LockCommitInput, branch: string): Promise<string> {
  const ref = await call(branch, "read the branch head", () =>
    input.github.rest.git.getRef({ ...input.repo, ref: `heads/${branch}` }),
  );
  return ref.data.object.sha;
}

/** The lockfile's text at a commit, or undefined when the commit has none. */
async function fileAt(input: LockCommitInput, branch: string, commit: string): Promise<string | undefined> {
  try {
    const { data } = await input.github.rest.repos.getContent({
      ...input.repo,
      path: input.path,
      ref: commit,
    });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) {
      throw new HubmergeError("E_USAGE", `${input.path} on ${branch} is not a file`, {
        hint: `remove what is at ${input.path} on ${branch}: the lockfile goes there`,
      });
    }
    return Buffer.from(data.content, "base64").toString("utf8");
  } catch (error) {
    if (error instanceof HubmergeError) throw error;
    if (statusOf(error) === 404) return undefined;
    throw wrap(error, branch, `read ${input.path}`);
  }
}

async function call<T>(branch: string, what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw wrap(error, branch, what);
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** A GitHub failure as a HubmergeError: permissions are the usual cause, so the hint names them. */
function wrap(error: unknown, branch: string, what: string): HubmergeError {
  if (error instanceof HubmergeError) return error;
  const status = statusOf(error);
  const reason = (error as Error | undefined)?.message?.split("\n")[0] ?? String(error);
  const permission = status === 403 || status === 404;
  return new HubmergeError(
    permission ? "E_USAGE" : "E_NETWORK",
    `could not ${what} on ${branch} for the lockfile${status ? ` (HTTP ${status})` : ""}: ${reason}`,
    {
      hint: permission
        ? "give the job that commits the lock `permissions: contents: write` (and `pull-requests: write` for " +
          "lock-update: pull-request), or set lock-update: pull-request for protected branches"
        : "GitHub failed after retries: re-run the job; the published models stay, and the lock is recomputed",
      cause: error,
    },
  );
}
