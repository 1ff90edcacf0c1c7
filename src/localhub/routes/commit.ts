/** `POST /api/models/{repo}/commit/{branch}`: one atomic commit from an NDJSON body. */
import type { RequestContext } from "../context.js";
import { parseCommitPayload } from "../commit-payload.js";
import { readBody } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { authorOf, repoFor } from "./common.js";
import { isTrue } from "./info.js";

/** Inline (base64) files make commit bodies large; this bounds them. */
const MAX_COMMIT_BODY_BYTES = 256 * 1024 * 1024;

export async function createCommit(ctx: RequestContext): Promise<void> {
  const [id = "", branch = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const payload = parseCommitPayload((await readBody(ctx.req, MAX_COMMIT_BODY_BYTES)).toString("utf8"));
  const createPr = isTrue(ctx.url.searchParams.get("create_pr"));
  const result = await ctx.hub.store.commit(repo.id, {
    branch,
    parentCommit: payload.parentCommit,
    title: payload.title,
    message: payload.message,
    author: authorOf(ctx),
    operations: payload.operations,
    createPr,
  });
  const base = `${ctx.hub.baseUrl}/${repo.id}`;
  await sendJson(ctx, 200, {
    success: true,
    commitOid: result.commit.id,
    commitUrl: `${base}/commit/${result.commit.id}`,
    ...(createPr && { pullRequestUrl: `${base}/discussions/${result.branch.split("/").pop()}` }),
    hookOutput: "",
  });
}
