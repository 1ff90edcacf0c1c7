/** Git objects: blobs, trees (with `base_tree` and nested paths) and commits. */
import { SHA1_HEX, TREE_MODES, type Signature, type TreeMode } from "../git-store.js";
import {
  ApiError,
  invalidRequest,
  notFound,
  optionalString,
  readableRepo,
  requireString,
  writableRepo,
  type Reply,
  type RouteContext,
} from "../http.js";
import type { RepoState } from "../repo-state.js";
import { repoPattern, type Route } from "../router.js";
import { isoSeconds } from "../state.js";
import { gitCommitJson, repoApiUrl, treeEntryJson } from "../shapes.js";
import {
  flattenTree,
  graftTree,
  isValidTreePath,
  removePath,
  setLeaf,
  walkTree,
  writeTree,
} from "../tree-edit.js";

function createBlob(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const content = requireString(ctx.body, "content");
  const encoding = optionalString(ctx.body, "encoding") ?? "utf-8";
  if (encoding !== "utf-8" && encoding !== "base64") {
    throw invalidRequest(`encoding must be "utf-8" or "base64", got "${encoding}"`);
  }
  const sha = repo.git.putBlob(Buffer.from(content, encoding === "base64" ? "base64" : "utf8"));
  return { status: 201, body: { sha, url: `${repoApiUrl(ctx.apiUrl, repo)}/git/blobs/${sha}` } };
}

function getBlob(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const sha = ctx.params.sha ?? "";
  const data = repo.git.blob(sha);
  if (data === undefined) throw notFound();
  const url = `${repoApiUrl(ctx.apiUrl, repo)}/git/blobs/${sha}`;
  return {
    status: 200,
    body: { sha, size: data.byteLength, url, content: data.toString("base64"), encoding: "base64" },
  };
}

interface TreeInput {
  path: string;
  mode: TreeMode;
  type: "blob" | "tree" | "commit";
  sha?: string | null;
  content?: string;
}

function parseTreeInput(raw: unknown, index: number): TreeInput {
  const where = `tree[${index}]`;
  if (typeof raw !== "object" || raw === null) throw invalidRequest(`${where} must be an object.`);
  const entry = raw as Record<string, unknown>;
  const { path, mode, type, sha, content } = entry;
  if (typeof path !== "string" || !isValidTreePath(path))
    throw invalidRequest(`${where}.path is not a valid path.`);
  if (!TREE_MODES.includes(mode as TreeMode))
    throw invalidRequest(`${where}.mode must be one of ${TREE_MODES.join(", ")}.`);
  if (type !== "blob" && type !== "tree" && type !== "commit")
    throw invalidRequest(`${where}.type must be blob, tree or commit.`);
  const expectedType = mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob";
  if (type !== expectedType)
    throw invalidRequest(`${where}: mode ${String(mode)} needs type ${expectedType}.`);
  const hasSha = "sha" in entry;
  if (hasSha === (content !== undefined))
    throw invalidRequest(`${where} needs exactly one of "sha" or "content".`);
  if (content !== undefined && (typeof content !== "string" || type !== "blob")) {
    throw invalidRequest(`${where}.content must be a string, for a blob.`);
  }
  if (hasSha && sha !== null && (typeof sha !== "string" || !SHA1_HEX.test(sha))) {
    throw invalidRequest(`${where}.sha must be a 40-character hex sha or null.`);
  }
  return {
    path,
    mode: mode as TreeMode,
    type,
    sha: sha as string | null | undefined,
    content: content as string | undefined,
  };
}

function applyTreeInput(repo: RepoState, flat: ReturnType<typeof flattenTree>, input: TreeInput): void {
  if (input.sha === null) return removePath(flat, input.path);
  if (input.content !== undefined) {
    const sha = repo.git.putBlob(Buffer.from(input.content, "utf8"));
    return setLeaf(flat, input.path, { mode: input.mode, type: "blob", sha });
  }
  const sha = input.sha as string;
  if (input.type === "tree") {
    if (repo.git.tree(sha) === undefined)
      throw new ApiError(422, `Invalid tree info: tree ${sha} does not exist`);
    return graftTree(repo.git, flat, input.path, sha);
  }
  if (input.type === "blob" && repo.git.blob(sha) === undefined) {
    throw new ApiError(422, `Invalid tree info: blob ${sha} does not exist`);
  }
  setLeaf(flat, input.path, { mode: input.mode, type: input.type, sha });
}

function createTree(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const entries = ctx.body.tree;
  if (!Array.isArray(entries)) throw invalidRequest(`"tree" wasn't supplied.`);
  const baseTree = optionalString(ctx.body, "base_tree");
  if (baseTree !== undefined && repo.git.tree(baseTree) === undefined) {
    throw new ApiError(422, `base_tree ${baseTree} is not a tree in this repository`);
  }
  const flat = flattenTree(repo.git, baseTree);
  entries.map(parseTreeInput).forEach((input) => applyTreeInput(repo, flat, input));
  const sha = writeTree(repo.git, flat);
  return { status: 201, body: treeJson(ctx, repo, sha, false) };
}

function treeJson(ctx: RouteContext, repo: RepoState, sha: string, recursive: boolean) {
  const listing = recursive
    ? walkTree(repo.git, sha)
    : (repo.git.tree(sha) ?? []).map((entry) => ({ path: entry.name, entry }));
  const tree = listing.map(({ path, entry }) =>
    treeEntryJson(ctx.apiUrl, repo, path, entry, repo.git.blob(entry.sha)?.byteLength),
  );
  return { sha, url: `${repoApiUrl(ctx.apiUrl, repo)}/git/trees/${sha}`, tree, truncated: false };
}

/** `{tree_sha}` may also be a commit sha or a branch name, as on GitHub. */
function getTree(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const wanted = ctx.params.sha ?? "";
  let sha: string | undefined = repo.git.tree(wanted) ? wanted : undefined;
  if (sha === undefined) sha = repo.git.commit(repo.resolveCommit(wanted) ?? "")?.tree;
  if (sha === undefined) throw notFound();
  return { status: 200, body: treeJson(ctx, repo, sha, ctx.query.has("recursive")) };
}

function signature(ctx: RouteContext, field: "author" | "committer", fallback: Signature): Signature {
  const value = ctx.body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "object") throw invalidRequest(`"${field}" must be an object.`);
  const who = value as Record<string, unknown>;
  const name = requireString(who, "name");
  const email = requireString(who, "email");
  const date = optionalString(who, "date");
  if (date !== undefined && Number.isNaN(Date.parse(date)))
    throw invalidRequest(`${field}.date is not a date.`);
  return { name, email, date: date === undefined ? fallback.date : isoSeconds(new Date(date)) };
}

function createCommit(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const message = requireString(ctx.body, "message");
  const tree = requireString(ctx.body, "tree");
  const parents = ctx.body.parents ?? [];
  if (!Array.isArray(parents) || parents.some((p) => typeof p !== "string")) {
    throw invalidRequest(`"parents" must be an array of commit shas.`);
  }
  if (repo.git.tree(tree) === undefined) throw new ApiError(422, `Tree SHA does not exist`);
  for (const parent of parents as string[]) {
    if (repo.git.commit(parent) === undefined)
      throw new ApiError(422, `Parent SHA does not exist or is not a commit object`);
  }
  const user = ctx.principal?.kind === "app" || ctx.principal === undefined ? undefined : ctx.principal.user;
  const fallback: Signature = {
    name: user?.login ?? "unknown",
    email: `${user?.id ?? 0}+${user?.login ?? "unknown"}@users.noreply.github.com`,
    date: ctx.state.now(),
  };
  const author = signature(ctx, "author", fallback);
  const committer = signature(ctx, "committer", author);
  const commit = { tree, parents: parents as string[], author, committer, message };
  const sha = repo.git.putCommit(commit);
  return { status: 201, body: gitCommitJson(ctx.apiUrl, repo, sha, commit) };
}

function getCommit(ctx: RouteContext): Reply {
  const repo = readableRepo(ctx);
  const sha = ctx.params.sha ?? "";
  const commit = repo.git.commit(sha);
  if (commit === undefined) throw notFound();
  return { status: 200, body: gitCommitJson(ctx.apiUrl, repo, sha, commit) };
}

export const gitObjectRoutes: Route[] = [
  { method: "POST", pattern: repoPattern("/git/blobs"), handle: createBlob },
  { method: "GET", pattern: repoPattern("/git/blobs/(?<sha>[^/]+)"), handle: getBlob },
  { method: "POST", pattern: repoPattern("/git/trees"), handle: createTree },
  { method: "GET", pattern: repoPattern("/git/trees/(?<sha>.+)"), handle: getTree },
  { method: "POST", pattern: repoPattern("/git/commits"), handle: createCommit },
  { method: "GET", pattern: repoPattern("/git/commits/(?<sha>[^/]+)"), handle: getCommit },
];
