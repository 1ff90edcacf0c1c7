/** `GET /api/models/{repo}/commits/{rev}`: first-parent history, newest first, paginated. */
import type { RequestContext } from "../context.js";
import { firstParentHistory } from "../history.js";
import { sendJson } from "../http/respond.js";
import { repoFor } from "./common.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export async function listCommits(ctx: RequestContext): Promise<void> {
  const [id = "", revision = ""] = ctx.params;
  const repo = repoFor(ctx, id, "read");
  const head = await ctx.hub.store.resolve(repo.id, revision);
  const history = await firstParentHistory(ctx.hub.store, repo.id, head);
  const query = ctx.url.searchParams;
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(query.get("limit")) || DEFAULT_PAGE_SIZE));
  const page = Math.max(0, Number(query.get("p")) || 0);
  const items = history.slice(page * limit, (page + 1) * limit).map((commit) => ({
    id: commit.id,
    title: commit.title,
    message: commit.message,
    authors: [{ user: commit.author, avatar: "" }],
    date: commit.date,
  }));
  const headers: Record<string, string | number> = { "X-Total-Count": history.length };
  if ((page + 1) * limit < history.length) {
    const next = new URL(ctx.url.pathname, ctx.hub.baseUrl);
    next.search = new URLSearchParams({ ...Object.fromEntries(query), p: String(page + 1) }).toString();
    headers.Link = `<${next.href}>; rel="next"`;
  }
  await sendJson(ctx, 200, items, headers);
}
