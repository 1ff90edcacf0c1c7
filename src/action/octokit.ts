import type { getOctokit } from "@actions/github";

/** The client the Action talks to GitHub with (retries and throttling come with @actions/github). */
export type GitHubClient = ReturnType<typeof getOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}
