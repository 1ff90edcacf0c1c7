/** Creating, deleting and configuring repositories. */
import { z } from "zod";
import { requireNamespaceWrite, requireWriteToken } from "../access.js";
import type { RequestContext } from "../context.js";
import { HubError, badRequest } from "../hub-error.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import type { CommitOperation } from "../types.js";
import { authorOf, repoFor } from "./common.js";

/** Creation may carry initial files (`files`, base64); the other bodies are a few fields. */
const MAX_CREATE_BODY_BYTES = 16 * 1024 * 1024;
const MAX_SMALL_BODY_BYTES = 64 * 1024;

const CreateRepoBody = z.looseObject({
  name: z.string().min(1),
  organization: z.string().nullish(),
  visibility: z.enum(["public", "private"]).nullish(),
  private: z.boolean().nullish(),
  type: z.string().nullish(),
  files: z
    .array(
      z.object({ path: z.string(), content: z.string(), encoding: z.enum(["base64", "utf-8"]).nullish() }),
    )
    .nullish(),
});

const DeleteRepoBody = z.looseObject({
  name: z.string().min(1),
  organization: z.string().nullish(),
  type: z.string().nullish(),
});

const SettingsBody = z.looseObject({
  private: z.boolean().nullish(),
  gated: z.union([z.literal(false), z.enum(["auto", "manual"])]).nullish(),
});

/** `POST /api/repos/create`: 409 when the repo exists; the first commit has `.gitattributes`. */
export async function createRepo(ctx: RequestContext): Promise<void> {
  requireWriteToken(ctx.identity);
  const body = await readJson(ctx.req, CreateRepoBody, "create-repo request", MAX_CREATE_BODY_BYTES);
  if (body.type && body.type !== "model")
    throw badRequest(`this local hub only hosts models, not ${body.type}s`);
  const namespace = body.organization ?? ctx.identity.user;
  requireNamespaceWrite(ctx.identity, namespace);
  const files: CommitOperation[] = (body.files ?? []).map((file) => ({
    kind: "put",
    path: file.path,
    content: Buffer.from(file.content, file.encoding === "utf-8" ? "utf8" : "base64"),
  }));
  const id = `${namespace}/${body.name}`;
  const { repo } = await ctx.hub.store
    .create({
      id,
      private: body.visibility ? body.visibility === "private" : (body.private ?? false),
      author: authorOf(ctx),
      files,
    })
    .catch((error: unknown) => {
      throw withRepoUrl(ctx, error, id);
    });
  await sendJson(ctx, 200, { url: `${ctx.hub.baseUrl}/${repo.id}`, name: repo.id, id: repo.uid });
}

/**
 * A 409 carries the existing repo's `url`, as the Hub's does: Python's `create_repo(exist_ok=True)`
 * accepts the 409 and then reads `url` from its body. Only the caller's own namespace gets here.
 */
function withRepoUrl(ctx: RequestContext, error: unknown, id: string): unknown {
  if (!(error instanceof HubError) || error.status !== 409) return error;
  return new HubError(409, error.message, error.errorCode, error.headers, {
    url: `${ctx.hub.baseUrl}/${id}`,
  });
}

/** `DELETE /api/repos/delete`. */
export async function deleteRepo(ctx: RequestContext): Promise<void> {
  requireWriteToken(ctx.identity);
  const body = await readJson(ctx.req, DeleteRepoBody, "delete-repo request", MAX_SMALL_BODY_BYTES);
  const namespace = body.organization ?? (ctx.identity.kind === "user" ? ctx.identity.user : "");
  const repo = repoFor(ctx, `${namespace}/${body.name}`, "write");
  await ctx.hub.store.delete(repo.id);
  await sendJson(ctx, 200, {});
}

/** `PUT /api/models/{repo}/settings`: `private` and `gated`. */
export async function updateSettings(ctx: RequestContext): Promise<void> {
  const [id = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, SettingsBody, "settings request", MAX_SMALL_BODY_BYTES);
  await ctx.hub.store.update(repo.id, {
    ...(body.private != null && { private: body.private }),
    ...(body.gated != null && { gated: body.gated }),
  });
  await sendJson(ctx, 200, {});
}
