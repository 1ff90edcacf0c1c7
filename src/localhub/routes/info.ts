/** `GET /api/models/{repo}` and `GET /api/models/{repo}/revision/{rev}`. */
import type { RequestContext } from "../context.js";
import { sendJson } from "../http/respond.js";
import { describeModel, pickExpanded } from "../model-info.js";
import { repoFor } from "./common.js";

export async function modelInfo(ctx: RequestContext): Promise<void> {
  const [id = "", revision = "HEAD"] = ctx.params;
  const repo = repoFor(ctx, id, "read");
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  const query = ctx.url.searchParams;
  const info = await describeModel(ctx.hub.store.blobs, repo, commit, { blobs: isTrue(query.get("blobs")) });
  const expand = [...query.getAll("expand"), ...query.getAll("expand[]")];
  await sendJson(ctx, 200, pickExpanded(info, expand));
}

export function isTrue(value: string | null): boolean {
  return value !== null && ["1", "true", "True"].includes(value);
}
