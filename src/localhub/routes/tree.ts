/** `GET /api/models/{repo}/tree/{rev}[/{path}]` and `POST /api/models/{repo}/paths-info/{rev}`. */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { lastCommitOf } from "../history.js";
import { badRequest, entryNotFound } from "../hub-error.js";
import { parseJsonText, parseWith, readBody } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { entryAt, isFolder, listFolder, type TreeEntry } from "../tree.js";
import type { CommitRecord } from "../types.js";
import { repoFor } from "./common.js";
import { isTrue } from "./info.js";

/** The Hub answers at most 1,000 paths per paths-info request (huggingface_hub sends 500). */
export const MAX_PATHS_INFO_PATHS = 1000;
const MAX_PATHS_INFO_BODY_BYTES = 2 * 1024 * 1024;

const PathsInfoBody = z.object({
  paths: z.union([z.string(), z.array(z.string())]),
  expand: z.union([z.boolean(), z.string()]).nullish(),
});

export async function listTree(ctx: RequestContext): Promise<void> {
  const [id = "", revision = "", rawFolder = ""] = ctx.params;
  const folder = rawFolder.replace(/\/+$/, "");
  const repo = repoFor(ctx, id, "read");
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  if (!isFolder(commit.files, folder)) throw entryNotFound(repo.id, folder, revision);
  const query = ctx.url.searchParams;
  const recursive = isTrue(query.get("recursive"));
  const expand = isTrue(query.get("expand"));
  const all = listFolder(commit.files, folder, recursive);
  const offset = Math.max(0, Number(query.get("cursor") ?? 0) || 0);
  const limit = Math.max(
    1,
    Math.min(Number(query.get("limit")) || ctx.hub.treePageSize, ctx.hub.treePageSize),
  );
  const page = all.slice(offset, offset + limit);
  const headers: Record<string, string> = {};
  if (offset + limit < all.length) {
    const next = new URL(ctx.url.pathname, ctx.hub.baseUrl);
    next.search = new URLSearchParams({
      ...Object.fromEntries(query),
      cursor: String(offset + limit),
    }).toString();
    headers.Link = `<${next.href}>; rel="next"`;
  }
  await sendJson(ctx, 200, expand ? await withLastCommits(ctx, repo.id, commit, page) : page, headers);
}

export async function pathsInfo(ctx: RequestContext): Promise<void> {
  const [id = "", revision = ""] = ctx.params;
  const repo = repoFor(ctx, id, "read");
  const body = await readPathsInfoBody(ctx);
  const paths = uniquePaths(typeof body.paths === "string" ? [body.paths] : body.paths);
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  const entries = paths
    .map((path) => entryAt(commit.files, path))
    .filter((entry): entry is TreeEntry => entry !== undefined);
  const expand = body.expand === true || (typeof body.expand === "string" && isTrue(body.expand));
  await sendJson(ctx, 200, expand ? await withLastCommits(ctx, repo.id, commit, entries) : entries);
}

/** JSON (the JS client) or a form with repeated `paths` (the Python client). */
async function readPathsInfoBody(ctx: RequestContext) {
  const text = (await readBody(ctx.req, MAX_PATHS_INFO_BODY_BYTES)).toString("utf8");
  if ((ctx.req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(text);
    return parseWith(
      PathsInfoBody,
      { paths: form.getAll("paths"), expand: form.get("expand") },
      "paths-info form",
    );
  }
  return parseWith(PathsInfoBody, parseJsonText(text, "paths-info request"), "paths-info request");
}

/** The paths once each (in first-seen order, trailing slashes dropped); too many is a 400. */
function uniquePaths(paths: string[]): string[] {
  const unique = [...new Set(paths.map((path) => path.replace(/\/+$/, "")))];
  if (unique.length > MAX_PATHS_INFO_PATHS) {
    throw badRequest(`paths-info takes at most ${MAX_PATHS_INFO_PATHS} paths, not ${unique.length}`);
  }
  return unique;
}

async function withLastCommits(
  ctx: RequestContext,
  repo: string,
  head: CommitRecord,
  entries: TreeEntry[],
): Promise<TreeEntry[]> {
  const last = await lastCommitOf(
    ctx.hub.store,
    repo,
    head,
    entries.map((entry) => entry.path),
  );
  return entries.map((entry) => {
    const commit = last.get(entry.path);
    return commit
      ? { ...entry, lastCommit: { id: commit.id, title: commit.title, date: commit.date } }
      : entry;
  });
}
