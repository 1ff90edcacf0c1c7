/** Issue comments on pull requests (the Action's sticky plan comment). */
import {
  notFound,
  paginate,
  readableRepo,
  requireString,
  requireUser,
  writableRepo,
  type Reply,
  type RouteContext,
} from "../http.js";
import type { CommentRecord, RepoState } from "../repo-state.js";
import { repoPattern, type Route } from "../router.js";
import { commentJson } from "../shapes.js";

/** Pull requests are the only issues modelled; commenting on any other number is a 404. */
function requireIssue(ctx: RouteContext, repo: RepoState): number {
  const number = Number(ctx.params.number);
  if (!repo.pulls.some((p) => p.number === number)) throw notFound();
  return number;
}

function listComments(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const number = requireIssue(ctx, repo);
  const since = ctx.query.get("since");
  const comments = repo.comments.filter(
    (c) => c.issueNumber === number && (since === null || c.updatedAt >= since),
  );
  const page = paginate(ctx, comments);
  return {
    status: 200,
    body: page.items.map((c) => commentJson(ctx.apiUrl, repo, c)),
    headers: page.headers,
  };
}

function createComment(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const number = requireIssue(ctx, repo);
  const body = requireString(ctx.body, "body");
  const now = ctx.state.now();
  const comment: CommentRecord = {
    id: ctx.state.takeCommentId(),
    issueNumber: number,
    body,
    user: requireUser(ctx).user,
    createdAt: now,
    updatedAt: now,
  };
  repo.comments.push(comment);
  return { status: 201, body: commentJson(ctx.apiUrl, repo, comment) };
}

function findComment(ctx: RouteContext, repo: RepoState): CommentRecord {
  const comment = repo.comments.find((c) => c.id === Number(ctx.params.id));
  if (comment === undefined) throw notFound();
  return comment;
}

function getComment(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  return { status: 200, body: commentJson(ctx.apiUrl, repo, findComment(ctx, repo)) };
}

function updateComment(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const comment = findComment(ctx, repo);
  comment.body = requireString(ctx.body, "body");
  comment.updatedAt = ctx.state.now();
  return { status: 200, body: commentJson(ctx.apiUrl, repo, comment) };
}

function deleteComment(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const comment = findComment(ctx, repo);
  repo.comments.splice(repo.comments.indexOf(comment), 1);
  return { status: 204 };
}

export const commentRoutes: Route[] = [
  { method: "GET", pattern: repoPattern("/issues/(?<number>\\d+)/comments"), handle: listComments },
  { method: "POST", pattern: repoPattern("/issues/(?<number>\\d+)/comments"), handle: createComment },
  { method: "GET", pattern: repoPattern("/issues/comments/(?<id>\\d+)"), handle: getComment },
  { method: "PATCH", pattern: repoPattern("/issues/comments/(?<id>\\d+)"), handle: updateComment },
  { method: "DELETE", pattern: repoPattern("/issues/comments/(?<id>\\d+)"), handle: deleteComment },
];
