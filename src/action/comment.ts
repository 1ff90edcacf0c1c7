import type { GitHubClient, RepoRef } from "./octokit.js";

/** Identifies the plan comment among a pull request's comments, so each push updates the same one. */
export const PLAN_COMMENT_MARKER = "<!-- hubmerge:plan -->";

/** Creates the plan comment, or updates it when an earlier run made one. Returns its id. */
export async function upsertPlanComment(
  github: GitHubClient,
  repo: RepoRef,
  pullRequest: number,
  body: string,
): Promise<{ id: number; created: boolean }> {
  const text = `${PLAN_COMMENT_MARKER}\n${body}`;
  const comments = await github.paginate(github.rest.issues.listComments, {
    ...repo,
    issue_number: pullRequest,
    per_page: 100,
  });
  const existing = comments.find((c) => c.body?.includes(PLAN_COMMENT_MARKER));
  if (existing) {
    await github.rest.issues.updateComment({ ...repo, comment_id: existing.id, body: text });
    return { id: existing.id, created: false };
  }
  const created = await github.rest.issues.createComment({ ...repo, issue_number: pullRequest, body: text });
  return { id: created.data.id, created: true };
}
