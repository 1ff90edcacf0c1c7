/** Git refs: read (`git/ref/…`, singular), list by prefix, create, move (fast-forward only
 * unless forced) and delete. */
import { SHA1_HEX } from "../git-store.js";
import {
  ApiError,
  notFound,
  readableRepo,
  requireString,
  writableRepo,
  type Reply,
  type RouteContext,
} from "../http.js";
import { repoPattern, type Route } from "../router.js";
import { refJson } from "../shapes.js";

function fullRefName(ctx: RouteContext): string {
  return `refs/${(ctx.params.ref ?? "").replace(/^refs\//, "")}`;
}

function getRef(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const name = fullRefName(ctx);
  const sha = repo.refs.get(name);
  if (sha === undefined) throw notFound();
  return { status: 200, body: refJson(ctx.apiUrl, repo, name, sha) };
}

function matchingRefs(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const prefix = fullRefName(ctx);
  const refs = [...repo.refs]
    .filter(([name]) => name.startsWith(prefix))
    .sort(([a], [b]) => a.localeCompare(b));
  return { status: 200, body: refs.map(([name, sha]) => refJson(ctx.apiUrl, repo, name, sha)) };
}

function requireCommitSha(ctx: RouteContext, sha: string): void {
  const repo = readableRepo(ctx);
  if (!SHA1_HEX.test(sha) || repo.git.commit(sha) === undefined)
    throw new ApiError(422, "Object does not exist");
}

function createRef(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const name = requireString(ctx.body, "ref");
  const sha = requireString(ctx.body, "sha");
  if (!/^refs\/[^/]+\/.+/.test(name)) {
    throw new ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.");
  }
  if (repo.refs.has(name)) throw new ApiError(422, "Reference already exists");
  requireCommitSha(ctx, sha);
  repo.refs.set(name, sha);
  return { status: 201, body: refJson(ctx.apiUrl, repo, name, sha) };
}

function updateRef(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const name = fullRefName(ctx);
  const sha = requireString(ctx.body, "sha");
  const force = ctx.body.force === true;
  const current = repo.refs.get(name);
  if (current === undefined) throw new ApiError(422, "Reference does not exist");
  requireCommitSha(ctx, sha);
  if (!force && !repo.git.isAncestor(current, sha)) throw new ApiError(422, "Update is not a fast forward");
  repo.refs.set(name, sha);
  return { status: 200, body: refJson(ctx.apiUrl, repo, name, sha) };
}

function deleteRef(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const name = fullRefName(ctx);
  if (!repo.refs.delete(name)) throw new ApiError(422, "Reference does not exist");
  return { status: 204 };
}

export const gitRefRoutes: Route[] = [
  { method: "GET", pattern: repoPattern("/git/ref/(?<ref>.+)"), handle: getRef },
  { method: "GET", pattern: repoPattern("/git/refs/(?<ref>.+)"), handle: getRef },
  { method: "GET", pattern: repoPattern("/git/matching-refs/(?<ref>.*)"), handle: matchingRefs },
  { method: "POST", pattern: repoPattern("/git/refs"), handle: createRef },
  { method: "PATCH", pattern: repoPattern("/git/refs/(?<ref>.+)"), handle: updateRef },
  { method: "DELETE", pattern: repoPattern("/git/refs/(?<ref>.+)"), handle: deleteRef },
];
