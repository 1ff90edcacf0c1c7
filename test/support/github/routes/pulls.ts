/** Pull requests between branches of one repository: open, list (so an existing lock-update
 * PR is found and reused), read and edit. */
import {
  ApiError,
  notFound,
  optionalString,
  paginate,
  readableRepo,
  requireString,
  requireUser,
  writableRepo,
  type Reply,
  type RouteContext,
} from "../http.js";
import type { PullRecord, RepoState, UserRecord } from "../repo-state.js";
import { repoPattern, type Route } from "../router.js";
import { pullJson } from "../shapes.js";

function validationFailed(error: Record<string, string>): ApiError {
  return new ApiError(422, "Validation Failed", { errors: [{ resource: "PullRequest", ...error }] });
}

/** `owner:branch` or `branch`; forks are not modelled, so the owner must be the repo's. */
function headBranch(repo: RepoState, head: string): string {
  const colon = head.indexOf(":");
  if (colon < 0) return head;
  if (head.slice(0, colon).toLowerCase() !== repo.owner.toLowerCase()) {
    throw validationFailed({ field: "head", code: "invalid" });
  }
  return head.slice(colon + 1);
}

export function openPull(
  repo: RepoState,
  fields: { title: string; head: string; base: string; body?: string | null; draft?: boolean },
  user: UserRecord,
  now: string,
): PullRecord {
  const head = headBranch(repo, fields.head);
  const headSha = repo.branchSha(head);
  const baseSha = repo.branchSha(fields.base);
  if (baseSha === undefined) throw validationFailed({ field: "base", code: "invalid" });
  if (headSha === undefined) throw validationFailed({ field: "head", code: "invalid" });
  if (repo.pulls.some((p) => p.state === "open" && p.head === head && p.base === fields.base)) {
    throw validationFailed({
      code: "custom",
      message: `A pull request already exists for ${repo.owner}:${head}.`,
    });
  }
  if (repo.git.isAncestor(headSha, baseSha)) {
    throw validationFailed({ code: "custom", message: `No commits between ${fields.base} and ${head}` });
  }
  const pull: PullRecord = {
    number: repo.takeIssueNumber(),
    title: fields.title,
    body: fields.body ?? null,
    head,
    base: fields.base,
    state: "open",
    draft: fields.draft ?? false,
    user,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
  repo.pulls.push(pull);
  return pull;
}

function createPull(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const principal = requireUser(ctx);
  const fields = {
    title: requireString(ctx.body, "title"),
    head: requireString(ctx.body, "head"),
    base: requireString(ctx.body, "base"),
    body: optionalString(ctx.body, "body"),
    draft: ctx.body.draft === true,
  };
  const pull = openPull(repo, fields, principal.user, ctx.state.now());
  return { status: 201, body: pullJson(ctx.apiUrl, repo, pull) };
}

function listPulls(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const state = ctx.query.get("state") ?? "open";
  const head = ctx.query.get("head");
  const base = ctx.query.get("base");
  let pulls = repo.pulls.filter((p) => state === "all" || p.state === state);
  if (head !== null) {
    const [owner, branch] = head.includes(":") ? head.split(/:(.*)/s) : [repo.owner, head];
    pulls = owner?.toLowerCase() === repo.owner.toLowerCase() ? pulls.filter((p) => p.head === branch) : [];
  }
  if (base !== null) pulls = pulls.filter((p) => p.base === base);
  const ascending = ctx.query.get("direction") === "asc";
  pulls = [...pulls].sort((a, b) => (ascending ? a.number - b.number : b.number - a.number));
  const page = paginate(ctx, pulls);
  return { status: 200, body: page.items.map((p) => pullJson(ctx.apiUrl, repo, p)), headers: page.headers };
}

function findPull(ctx: RouteContext, repo: RepoState): PullRecord {
  const pull = repo.pulls.find((p) => p.number === Number(ctx.params.number));
  if (pull === undefined) throw notFound();
  return pull;
}

function getPull(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  return { status: 200, body: pullJson(ctx.apiUrl, repo, findPull(ctx, repo)) };
}

function updatePull(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const pull = findPull(ctx, repo);
  const title = optionalString(ctx.body, "title");
  const body = optionalString(ctx.body, "body");
  const state = optionalString(ctx.body, "state");
  const base = optionalString(ctx.body, "base");
  if (state !== undefined && state !== "open" && state !== "closed") {
    throw validationFailed({ field: "state", code: "invalid" });
  }
  if (base !== undefined && repo.branchSha(base) === undefined)
    throw validationFailed({ field: "base", code: "invalid" });
  const now = ctx.state.now();
  if (title !== undefined) pull.title = title;
  if (body !== undefined) pull.body = body;
  if (base !== undefined) pull.base = base;
  if (state !== undefined && state !== pull.state) {
    pull.state = state;
    pull.closedAt = state === "closed" ? now : null;
  }
  pull.updatedAt = now;
  return { status: 200, body: pullJson(ctx.apiUrl, repo, pull) };
}

export const pullRoutes: Route[] = [
  { method: "POST", pattern: repoPattern("/pulls"), handle: createPull },
  { method: "GET", pattern: repoPattern("/pulls"), handle: listPulls },
  { method: "GET", pattern: repoPattern("/pulls/(?<number>\\d+)"), handle: getPull },
  { method: "PATCH", pattern: repoPattern("/pulls/(?<number>\\d+)"), handle: updatePull },
];
