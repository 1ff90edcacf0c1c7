/**
 * `POST /{repo}.git/info/lfs/objects/batch` (git-lfs batch API, upload only). Objects this repo
 * already has (uploaded to it, or in its history) get no actions; others get a signed upload URL
 * bound to this repo, or for large objects a multipart plan (`header.chunk_size` and one URL per
 * part, `href` = completion URL). An object stored for another repo still needs an upload here,
 * as on the Hub, whose storage is per repo. Never offers Xet, so clients use plain LFS.
 *
 * Everything a client announces is bounded before work is done for it: the object count, each
 * object's size, and the number of part URLs one answer may list.
 */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { SHA256_HEX } from "../git-hash.js";
import { badRequest } from "../hub-error.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { partCount, planMultipart } from "../multipart.js";
import { repoFor } from "./common.js";

const LFS_JSON = "application/vnd.git-lfs+json";
/** Both clients send at most 256 objects per batch request. */
export const MAX_BATCH_OBJECTS = 1000;
/** The Hub's largest file. */
export const MAX_LFS_OBJECT_BYTES = 50 * 1024 ** 3;
/** Part URLs one batch answer may list in all (each object has at most 10,000 parts). */
export const MAX_BATCH_PART_URLS = 20_000;
const MAX_BATCH_BODY_BYTES = 1024 * 1024;

const BatchBody = z.looseObject({
  operation: z.string(),
  transfers: z.array(z.string()).max(20).nullish(),
  objects: z
    .array(z.looseObject({ oid: z.string().max(200), size: z.number().int().nonnegative() }))
    .max(MAX_BATCH_OBJECTS),
});

type LfsObjectAnswer = Record<string, unknown>;

interface BatchState {
  repo: string;
  multipartAllowed: boolean;
  /** Part URLs still allowed in this answer. */
  partBudget: number;
}

export async function lfsBatch(ctx: RequestContext): Promise<void> {
  const [id = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, BatchBody, "LFS batch request", MAX_BATCH_BODY_BYTES);
  if (body.operation !== "upload")
    throw badRequest(`LFS operation "${body.operation}" is not supported here`);
  const state: BatchState = {
    repo: repo.id,
    multipartAllowed: body.transfers?.includes("multipart") ?? false,
    partBudget: MAX_BATCH_PART_URLS,
  };
  const objects: LfsObjectAnswer[] = [];
  for (const object of body.objects) objects.push(await answerFor(ctx, object, state));
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
  state: BatchState,
): Promise<LfsObjectAnswer> {
  const { oid, size } = object;
  if (!SHA256_HEX.test(oid)) return objectError(oid, size, "oid must be a 64-hex sha256");
  if (size > MAX_LFS_OBJECT_BYTES) {
    return objectError(oid, size, `object is larger than the ${MAX_LFS_OBJECT_BYTES} bytes allowed`);
  }
  const { store } = ctx.hub;
  const stored = await store.blobs.lfsSize(oid);
  if (stored !== undefined && (await store.hasLfs(state.repo, oid))) {
    if (stored === size) return { oid, size };
    return objectError(oid, size, `object ${oid} is stored with size ${stored}, not ${size}`);
  }
  return uploadAnswer(ctx, oid, size, state);
}

function uploadAnswer(ctx: RequestContext, oid: string, size: number, state: BatchState): LfsObjectAnswer {
  const { signer, baseUrl, multipartThreshold, multipartChunkSize } = ctx.hub;
  const expires_in = signer.ttlSeconds;
  const repoQuery = new URLSearchParams({ repo: state.repo });
  if (state.multipartAllowed && size > multipartThreshold) {
    const plan = planMultipart(state.repo, oid, size, multipartChunkSize);
    const parts = partCount(plan);
    if (parts > state.partBudget) {
      return objectError(oid, size, "too many upload parts in one batch; send fewer objects per request");
    }
    state.partBudget -= parts;
    repoQuery.set("chunk", String(plan.chunkSize));
    const grant = signer.grant("multipart", state.repo, oid, size, plan.chunkSize);
    const query = `${repoQuery.toString()}&${grant.toString()}`;
    const header: Record<string, string> = { chunk_size: String(plan.chunkSize) };
    for (let n = 1; n <= parts; n++) {
      header[String(n).padStart(5, "0")] = `${baseUrl}/_lfs/${oid}/${size}/part/${n}?${query}`;
    }
    const href = `${baseUrl}/_lfs/${oid}/${size}/complete?${query}`;
    return { oid, size, authenticated: true, actions: { upload: { href, header, expires_in } } };
  }
  const grant = signer.grant("single", state.repo, oid, size);
  const href = `${baseUrl}/_lfs/${oid}/${size}?${repoQuery.toString()}&${grant.toString()}`;
  return { oid, size, authenticated: true, actions: { upload: { href, expires_in } } };
}

function objectError(oid: string, size: number, message: string): LfsObjectAnswer {
  return { oid, size, error: { code: 422, message } };
}

function hasChunkSize(object: LfsObjectAnswer): boolean {
  const actions = object.actions as { upload?: { header?: Record<string, string> } } | undefined;
  return actions?.upload?.header?.chunk_size !== undefined;
}
