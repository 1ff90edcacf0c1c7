import * as core from "@actions/core";
import { getOctokit } from "@actions/github";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "./throttling.js";

/**
 * The client the Action talks to GitHub with. `@actions/github` itself adds only the REST methods
 * and pagination, so a single 502 or a secondary rate limit would fail the job: the retry plugin
 * re-sends server errors (1 s, 4 s, 9 s apart) and the throttling plugin queues writes and waits
 * out rate limits as GitHub asks.
 */
export type GitHubClient = ReturnType<typeof getOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

/** Rate-limit waits accepted per request before giving up. */
const RATE_LIMIT_RETRIES = 2;

/** `baseUrl` defaults to GITHUB_API_URL (read by @actions/github at import). */
export function createGitHubClient(token: string, options: { baseUrl?: string } = {}): GitHubClient {
  return getOctokit(
    token,
    {
      ...(options.baseUrl && { baseUrl: options.baseUrl }),
      throttle: {
        onRateLimit: (after: number, options: RequestLabel, _octokit: unknown, count: number) =>
          waitOut("rate limit", after, options, count),
        onSecondaryRateLimit: (after: number, options: RequestLabel, _octokit: unknown, count: number) =>
          waitOut("secondary rate limit", after, options, count),
      },
    },
    retry,
    throttling,
  );
}

interface RequestLabel {
  method: string;
  url: string;
}

function waitOut(kind: string, after: number, options: RequestLabel, count: number): boolean {
  if (count >= RATE_LIMIT_RETRIES) {
    core.warning(`GitHub's ${kind} hit ${options.method} ${options.url} again; giving up on it`);
    return false;
  }
  core.info(`GitHub's ${kind} on ${options.method} ${options.url}: retrying in ${after} s`);
  return true;
}
