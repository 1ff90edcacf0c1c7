/** Branches: create (`POST .../branch/{name}`), delete (`DELETE`), list (`GET .../refs`). */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { authorOf, repoFor } from "./common.js";

const CreateBranchBody = z.looseObject({
  startingPoint: z.string().nullish(),
  emptyBranch: z.boolean().nullish(),
  overwrite: z.boolean().nullish(),
});

export async function createBranch(ctx: RequestContext): Promise<void> {
  const [id = "", branch = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, CreateBranchBody, "create-branch request", 64 * 1024);
  const start = body.emptyBranch
    ? null
    : (await ctx.hub.store.resolve(repo.id, body.startingPoint ?? "main")).id;
  await ctx.hub.store.setBranch(repo.id, branch, start, {
    overwrite: body.overwrite ?? false,
    author: authorOf(ctx),
  });
  await sendJson(ctx, 200, {});
}

export async function deleteBranch(ctx: RequestContext): Promise<void> {
  const [id = "", branch = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  await ctx.hub.store.deleteBranch(repo.id, branch);
  await sendJson(ctx, 200, {});
}

export async function listRefs(ctx: RequestContext): Promise<void> {
  const [id = ""] = ctx.params;
  const repo = repoFor(ctx, id, "read");
  const refs = Object.entries(repo.branches).map(([name, sha]) => ({
    name,
    ref: name.startsWith("refs/") ? name : `refs/heads/${name}`,
    targetCommit: sha,
  }));
  await sendJson(ctx, 200, {
    branches: refs.filter((ref) => !ref.name.startsWith("refs/pr/")),
    pullRequests: refs.filter((ref) => ref.name.startsWith("refs/pr/")),
    tags: [],
    converts: [],
  });
}
