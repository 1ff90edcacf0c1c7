/**
 * The upload URLs the batch API hands out: a single `PUT` of the whole object, or `PUT`s of its
 * parts then a completion `POST`. Every path verifies the sha256 and size before the object is
 * stored.
 */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { badRequest } from "../hub-error.js";
import { readJson } from "../http/body.js";
import { send, sendJson } from "../http/respond.js";
import { completeMultipart, stagePart, type MultipartPlan } from "../multipart.js";

const CompletionBody = z.looseObject({
  oid: z.string(),
  parts: z.array(z.object({ partNumber: z.number().int(), etag: z.string() })),
});

/** `PUT /_lfs/{oid}/{size}?sig=`. */
export async function uploadObject(ctx: RequestContext): Promise<void> {
  const [oid = "", sizeText = ""] = ctx.params;
  const size = Number(sizeText);
  ctx.hub.signer.verify(ctx.url.searchParams.get("sig"), "single", oid, size);
  const blobs = ctx.hub.store.blobs;
  if ((await blobs.lfsSize(oid)) === size) {
    ctx.req.resume(); // Someone stored it meanwhile: the bytes are not needed.
  } else {
    await blobs.ingestLfs(ctx.hub.link.incoming(ctx.req, ctx.req.socket), { oid, size });
  }
  await send(ctx, 200, {});
}

/** `PUT /_lfs/{oid}/{size}/part/{n}?chunk=&sig=`: answers the part's ETag. */
export async function uploadPart(ctx: RequestContext): Promise<void> {
  const [, , partText = ""] = ctx.params;
  const plan = verifiedPlan(ctx);
  const body = ctx.hub.link.incoming(ctx.req, ctx.req.socket);
  const etag = await stagePart(ctx.hub.store.blobs, plan, Number(partText), body);
  await send(ctx, 200, { ETag: etag });
}

/** `POST /_lfs/{oid}/{size}/complete?chunk=&sig=` with `{oid, parts: [{partNumber, etag}]}`. */
export async function completeUpload(ctx: RequestContext): Promise<void> {
  const plan = verifiedPlan(ctx);
  const body = await readJson(ctx.req, CompletionBody, "multipart completion");
  if (body.oid !== plan.oid)
    throw badRequest(`completion names ${body.oid}, but this URL is for ${plan.oid}`);
  if ((await ctx.hub.store.blobs.lfsSize(plan.oid)) !== plan.size) {
    await completeMultipart(ctx.hub.store.blobs, plan, body.parts);
  }
  await sendJson(ctx, 200, {});
}

function verifiedPlan(ctx: RequestContext): MultipartPlan {
  const [oid = "", sizeText = ""] = ctx.params;
  const plan = { oid, size: Number(sizeText), chunkSize: Number(ctx.url.searchParams.get("chunk")) };
  ctx.hub.signer.verify(ctx.url.searchParams.get("sig"), "multipart", plan.oid, plan.size, plan.chunkSize);
  return plan;
}
