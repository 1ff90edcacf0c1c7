/** Lookups shared by the routes: the repository a request names, with the access it needs. */
import { requireDownloadable, requireVisible, requireWritable } from "../access.js";
import type { RequestContext } from "../context.js";
import type { RepoRecord } from "../types.js";

export type Need = "read" | "download" | "write";

/** The repo named by `id` if the caller may `need` it; else the Hub's 401/403/404. */
export function repoFor(ctx: RequestContext, id: string, need: Need): RepoRecord {
  const repo = requireVisible(ctx.identity, ctx.hub.store.get(id), id);
  if (need === "download") requireDownloadable(ctx.identity, repo);
  if (need === "write") requireWritable(ctx.identity, repo);
  return repo;
}

/** The user a write is attributed to. */
export function authorOf(ctx: RequestContext): string {
  return ctx.identity.kind === "user" ? ctx.identity.user : "anonymous";
}
