import type { GitHubClient, RepoRef } from "./octokit.js";

/** Identifies the plan comment among a pull request's comments, so each push updates the same one. */
export const PLAN_COMMENT_MARKER = "<!-- hubmerge:plan -->";

/** Who the workflow's GITHUB_TOKEN (and an installation token without `GET /user`) comments as. */
export const ACTIONS_BOT_LOGIN = "github-actions[bot]";

/**
 * Creates the plan comment, or updates it when an earlier run made one. Only a comment that starts
 * with the marker AND was written by this token's identity counts: anyone can paste the marker into
 * their own comment, and the Action must never rewrite what someone else wrote. Returns its id.
 */
export async function upsertPlanComment(
  github: GitHubClient,
  repo: RepoRef,
  pullRequest: number,
  body: string,
): Promise<{ id: number; created: boolean }> {
  const text = `${PLAN_COMMENT_MARKER}\n${body}`;
  const self = await ownLogin(github);
  const comments = await github.paginate(github.rest.issues.listComments, {
    ...repo,
    issue_number: pullRequest,
    per_page: 100,
  });
  const existing = comments.find(
    (c) => c.body?.startsWith(PLAN_COMMENT_MARKER) && c.user?.login.toLowerCase() === self.toLowerCase(),
  );
  if (existing) {
    await github.rest.issues.updateComment({ ...repo, comment_id: existing.id, body: text });
    return { id: existing.id, created: false };
  }
  const created = await github.rest.issues.createComment({ ...repo, issue_number: pullRequest, body: text });
  return { id: created.data.id, created: true };
}

/**
 * The login this token writes comments as. A personal token can ask `GET /user`; GITHUB_TOKEN is
 * refused there (403) and comments as github-actions[bot].
 */
async function ownLogin(github: GitHubClient): Promise<string> {
  try {
    return (await github.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 403 || status === 404) return ACTIONS_BOT_LOGIN;
    throw error;
  }
}
