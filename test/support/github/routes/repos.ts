/** Repository metadata, the contents API (how the bot reads manifests) and raw downloads. */
import type { TreeEntry } from "../git-store.js";
import { ApiError, notFound, readableRepo, type Reply, type RouteContext } from "../http.js";
import type { RepoState } from "../repo-state.js";
import { repoPattern, type Route } from "../router.js";
import { contentItemJson, repoJson } from "../shapes.js";
import { lookupPath } from "../tree-edit.js";

function getRepo(ctx: RouteContext): Reply {
  return { status: 200, body: repoJson(ctx.apiUrl, readableRepo(ctx)) };
}

function blobSize(repo: RepoState, entry: TreeEntry): number {
  return entry.type === "blob" ? (repo.git.blob(entry.sha)?.byteLength ?? 0) : 0;
}

/** Base64 in lines of 60 characters, each ending in a newline, like GitHub's contents API. */
function wrappedBase64(data: Buffer): string {
  const text = data.toString("base64");
  return text.replace(/.{1,60}/g, "$&\n");
}

function wantsRaw(ctx: RouteContext): boolean {
  const accept = String(ctx.headers.accept ?? "");
  return /application\/vnd\.github(\.v3)?\.raw/.test(accept);
}

function getContents(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const refParam = ctx.query.get("ref") ?? undefined;
  const ref = refParam ?? repo.defaultBranch;
  const commitSha = repo.resolveCommit(refParam);
  const commit = repo.git.commit(commitSha ?? "");
  if (commit === undefined) {
    if (repo.refs.size === 0) throw new ApiError(404, "This repository is empty.");
    throw new ApiError(404, `No commit found for the ref ${ref}`);
  }
  const path = (ctx.params.path ?? "").replace(/^\/+|\/+$/g, "");
  const entry = lookupPath(repo.git, commit.tree, path);
  if (entry === undefined) throw notFound();
  if (entry.type === "tree") {
    const items = (repo.git.tree(entry.sha) ?? []).map((child) => {
      const childPath = path === "" ? child.name : `${path}/${child.name}`;
      return contentItemJson(ctx.apiUrl, repo, childPath, child, ref, blobSize(repo, child));
    });
    return { status: 200, body: items };
  }
  const data = repo.git.blob(entry.sha) ?? Buffer.alloc(0);
  if (wantsRaw(ctx))
    return { status: 200, raw: data, headers: { "content-type": "text/plain; charset=utf-8" } };
  const item = contentItemJson(ctx.apiUrl, repo, path, entry, ref, data.byteLength);
  return { status: 200, body: { ...item, encoding: "base64", content: wrappedBase64(data) } };
}

/** `download_url` targets: `/_raw/{owner}/{repo}/{ref}/{path}`, where the ref may hold slashes. */
function getRaw(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const segments = (ctx.params.rest ?? "").split("/");
  for (let i = 1; i < segments.length; i++) {
    const data = repo.readFile(segments.slice(i).join("/"), segments.slice(0, i).join("/"));
    if (data !== undefined)
      return { status: 200, raw: data, headers: { "content-type": "text/plain; charset=utf-8" } };
  }
  throw notFound();
}

export const repoRoutes: Route[] = [
  { method: "GET", pattern: repoPattern(""), handle: getRepo },
  { method: "GET", pattern: repoPattern("/contents(?:/(?<path>.*))?"), handle: getContents },
  { method: "GET", pattern: /^\/_raw\/(?<owner>[^/]+)\/(?<repo>[^/]+)\/(?<rest>.+)$/, handle: getRaw },
];
