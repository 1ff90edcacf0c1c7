/**
 * `POST /{repo}.git/info/lfs/objects/batch` (git-lfs batch API, upload only). Objects already
 * stored get no actions; others get a signed upload URL on this server, or for large objects a
 * multipart plan (`header.chunk_size` and one URL per part, `href` = completion URL). Never
 * offers Xet, so clients use plain LFS.
 */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { SHA256_HEX } from "../git-hash.js";
import { badRequest } from "../hub-error.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { partCount, type MultipartPlan } from "../multipart.js";
import { repoFor } from "./common.js";

const LFS_JSON = "application/vnd.git-lfs+json";
const UPLOAD_URL_TTL_SECONDS = 3600;

const BatchBody = z.looseObject({
  operation: z.string(),
  transfers: z.array(z.string()).nullish(),
  objects: z.array(z.looseObject({ oid: z.string(), size: z.number().int().nonnegative() })).max(10_000),
});

type LfsObjectAnswer = Record<string, unknown>;

export async function lfsBatch(ctx: RequestContext): Promise<void> {
  const [id = ""] = ctx.params;
  repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, BatchBody, "LFS batch request");
  if (body.operation !== "upload")
    throw badRequest(`LFS operation "${body.operation}" is not supported here`);
  const multipartAllowed = body.transfers?.includes("multipart") ?? false;
  const objects: LfsObjectAnswer[] = [];
  for (const object of body.objects) objects.push(await answerFor(ctx, object, multipartAllowed));
  const usesMultipart = objects.some((object) => hasChunkSize(object));
  await sendJson(
    ctx,
    200,
    { transfer: usesMultipart ? "multipart" : "basic", objects, hash_algo: "sha256" },
    { "Content-Type": LFS_JSON },
  );
}

async function answerFor(
  ctx: RequestContext,
  object: { oid: string; size: number },
  multipartAllowed: boolean,
): Promise<LfsObjectAnswer> {
  const { oid, size } = object;
  if (!SHA256_HEX.test(oid))
    return { oid, size, error: { code: 422, message: "oid must be a 64-hex sha256" } };
  const stored = await ctx.hub.store.blobs.lfsSize(oid);
  if (stored === size) return { oid, size };
  if (stored !== undefined) {
    return {
      oid,
      size,
      error: { code: 422, message: `object ${oid} is stored with size ${stored}, not ${size}` },
    };
  }
  const { signer, baseUrl, multipartThreshold, multipartChunkSize } = ctx.hub;
  if (multipartAllowed && size > multipartThreshold) {
    const plan: MultipartPlan = { oid, size, chunkSize: multipartChunkSize };
    const query = `chunk=${plan.chunkSize}&sig=${signer.sign("multipart", oid, size, plan.chunkSize)}`;
    const header: Record<string, string> = { chunk_size: String(plan.chunkSize) };
    for (let n = 1; n <= partCount(plan); n++) {
      header[String(n).padStart(5, "0")] = `${baseUrl}/_lfs/${oid}/${size}/part/${n}?${query}`;
    }
    const href = `${baseUrl}/_lfs/${oid}/${size}/complete?${query}`;
    return {
      oid,
      size,
      authenticated: true,
      actions: { upload: { href, header, expires_in: UPLOAD_URL_TTL_SECONDS } },
    };
  }
  const href = `${baseUrl}/_lfs/${oid}/${size}?sig=${signer.sign("single", oid, size)}`;
  return {
    oid,
    size,
    authenticated: true,
    actions: { upload: { href, expires_in: UPLOAD_URL_TTL_SECONDS } },
  };
}

function hasChunkSize(object: LfsObjectAnswer): boolean {
  const actions = object.actions as { upload?: { header?: Record<string, string> } } | undefined;
  return actions?.upload?.header?.chunk_size !== undefined;
}
