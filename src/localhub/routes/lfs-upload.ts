/**
 * The upload URLs the batch API hands out: a single `PUT` of the whole object, or `PUT`s of its
 * parts then a completion `POST`. Each URL is signed for one repo, object and size, and expires.
 * Every path verifies the sha256 and size before the object is stored and recorded as uploaded to
 * that repo. An object already stored for another repo is verified all the same: sending its
 * bytes is what proves the uploader has them.
 */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { badRequest } from "../hub-error.js";
import { readJson } from "../http/body.js";
import { send, sendJson } from "../http/respond.js";
import { MAX_PARTS, completeMultipart, stagePart, type MultipartPlan } from "../multipart.js";

const CompletionBody = z.looseObject({
  oid: z.string(),
  parts: z.array(z.object({ partNumber: z.number().int(), etag: z.string().max(200) })).max(MAX_PARTS),
});
const MAX_COMPLETION_BODY_BYTES = 2 * 1024 * 1024;

/** `PUT /_lfs/{oid}/{size}?repo=&exp=&sig=`. */
export async function uploadObject(ctx: RequestContext): Promise<void> {
  const [oid = "", sizeText = ""] = ctx.params;
  const size = Number(sizeText);
  const repo = ctx.url.searchParams.get("repo") ?? "";
  ctx.hub.signer.verify(ctx.url.searchParams, "single", repo, oid, size);
  const { store } = ctx.hub;
  if (await alreadyHas(ctx, repo, oid, size)) {
    ctx.req.resume(); // This repo has it already: the bytes are not needed.
  } else {
    await store.blobs.ingestLfs(ctx.hub.link.incoming(ctx.req, ctx.req.socket), { oid, size });
    await store.recordLfsUpload(repo, oid);
  }
  await send(ctx, 200, {});
}

/** `PUT /_lfs/{oid}/{size}/part/{n}?repo=&chunk=&exp=&sig=`: answers the part's ETag. */
export async function uploadPart(ctx: RequestContext): Promise<void> {
  const [, , partText = ""] = ctx.params;
  const plan = verifiedPlan(ctx);
  const body = ctx.hub.link.incoming(ctx.req, ctx.req.socket);
  const etag = await stagePart(ctx.hub.store.blobs, plan, Number(partText), body);
  await send(ctx, 200, { ETag: etag });
}

/** `POST /_lfs/{oid}/{size}/complete?repo=&chunk=&exp=&sig=` with `{oid, parts: [{partNumber, etag}]}`. */
export async function completeUpload(ctx: RequestContext): Promise<void> {
  const plan = verifiedPlan(ctx);
  const body = await readJson(ctx.req, CompletionBody, "multipart completion", MAX_COMPLETION_BODY_BYTES);
  if (body.oid !== plan.oid)
    throw badRequest(`completion names ${body.oid}, but this URL is for ${plan.oid}`);
  if (!(await alreadyHas(ctx, plan.repo, plan.oid, plan.size))) {
    await completeMultipart(ctx.hub.store.blobs, plan, body.parts);
    await ctx.hub.store.recordLfsUpload(plan.repo, plan.oid);
  }
  await sendJson(ctx, 200, {});
}

async function alreadyHas(ctx: RequestContext, repo: string, oid: string, size: number): Promise<boolean> {
  const { store } = ctx.hub;
  return (await store.blobs.lfsSize(oid)) === size && (await store.hasLfs(repo, oid));
}

function verifiedPlan(ctx: RequestContext): MultipartPlan {
  const [oid = "", sizeText = ""] = ctx.params;
  const query = ctx.url.searchParams;
  const plan = {
    repo: query.get("repo") ?? "",
    oid,
    size: Number(sizeText),
    chunkSize: Number(query.get("chunk")),
  };
  ctx.hub.signer.verify(query, "multipart", plan.repo, plan.oid, plan.size, plan.chunkSize);
  return plan;
}
