/** What tests do to the local GitHub directly: seed repositories, read files and history, and
 * inspect pull requests, comments and dispatches. */
import { HubmergeError } from "../../../src/errors.js";
import type { TokenSpec } from "./credentials.js";
import { ApiError } from "./http.js";
import type { CommentRecord, CommitSummary, PullRecord, SeedFiles } from "./repo-state.js";
import type { RepoState } from "./repo-state.js";
import { openPull } from "./routes/pulls.js";
import type { DispatchRecord, GitHubState } from "./state.js";
import { diffTrees } from "./tree-edit.js";

export interface SeedRepoOptions {
  files: SeedFiles;
  /** Branch to commit on (default: the repository's default branch, `main` for a new one). */
  branch?: string;
  message?: string;
  /** Only when the repository is created; private repositories are 404 without a token. */
  private?: boolean;
}

export interface FileChanges {
  added: string[];
  removed: string[];
  modified: string[];
}

export class LocalGitHubAdmin {
  constructor(private readonly state: GitHubState) {}

  /** Dispatches received, oldest first (the live array). */
  get dispatches(): readonly DispatchRecord[] {
    return this.state.dispatches;
  }

  /**
   * Commits `files` (null deletes a path) on a branch, creating the repository on first use
   * with that branch as default. A new branch starts from the default branch. Seed commits
   * have fixed dates, so the same seeds give the same shas on every run. Returns the sha.
   */
  seedRepo(fullName: string, options: SeedRepoOptions): string {
    const existing = this.state.repo(fullName);
    const repo =
      existing ?? this.state.createRepo(fullName, options.branch ?? "main", options.private ?? false);
    const branch = options.branch ?? repo.defaultBranch;
    const message = options.message ?? (existing ? `Update ${branch}` : "Initial commit");
    return repo.commitFiles(branch, options.files, message, this.state.nextSeedDate());
  }

  /** A file's text at a ref (default branch when omitted), or undefined. */
  readFile(fullName: string, path: string, ref?: string): string | undefined {
    return this.state.repo(fullName)?.readFile(path, ref)?.toString("utf8");
  }

  readBytes(fullName: string, path: string, ref?: string): Buffer | undefined {
    return this.state.repo(fullName)?.readFile(path, ref);
  }

  /** First-parent history of a branch (default branch when omitted), newest first. */
  commits(fullName: string, branch?: string): CommitSummary[] {
    const repo = this.repo(fullName);
    return repo.history(branch ?? repo.defaultBranch);
  }

  defaultBranch(fullName: string): string {
    return this.repo(fullName).defaultBranch;
  }

  branchSha(fullName: string, branch?: string): string | undefined {
    const repo = this.state.repo(fullName);
    return repo?.branchSha(branch ?? repo.defaultBranch);
  }

  /** Files changed between two commits (`from` undefined: everything in `to` is added). */
  diff(fullName: string, from: string | undefined, to: string): FileChanges {
    const repo = this.repo(fullName);
    const tree = (sha: string | undefined) => (sha === undefined ? undefined : repo.git.commit(sha)?.tree);
    return diffTrees(repo.git, tree(from), tree(to));
  }

  pulls(fullName: string): PullRecord[] {
    return [...(this.state.repo(fullName)?.pulls ?? [])];
  }

  /** Opens a pull request as `user` (a login; default `octocat`), as a contributor would. */
  openPull(
    fullName: string,
    fields: { title: string; head: string; base?: string; body?: string },
    user = "octocat",
  ): PullRecord {
    const repo = this.repo(fullName);
    const base = fields.base ?? repo.defaultBranch;
    try {
      return openPull(repo, { ...fields, base }, { login: user, id: 583231, type: "User" }, this.state.now());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const detail = JSON.stringify(error.extra.errors ?? []);
      throw new HubmergeError(
        "E_USAGE",
        `cannot open a pull request ${fields.head} → ${base} in ${fullName}: ${error.message} ${detail}`,
      );
    }
  }

  comments(fullName: string, issueNumber: number): CommentRecord[] {
    return (this.state.repo(fullName)?.comments ?? []).filter((c) => c.issueNumber === issueNumber);
  }

  addToken(spec: TokenSpec): void {
    this.state.credentials.addToken(spec);
  }

  installationFor(fullName: string): number | undefined {
    return this.state.credentials.installationForRepo(fullName);
  }

  private repo(fullName: string): RepoState {
    const repo = this.state.repo(fullName);
    if (repo === undefined) {
      throw new HubmergeError("E_USAGE", `local GitHub has no repository ${fullName}`, {
        hint: "seed it first with github.seedRepo(name, { files })",
      });
    }
    return repo;
  }
}
