/**
 * `GET|HEAD /{repo}/resolve/{rev}/{path}` (file contents; LFS files' real bytes) and
 * `/{repo}/raw/{rev}/{path}` (what git stores: the pointer text for LFS files), with single
 * byte ranges. Bytes are served directly (no CDN redirect), with the headers huggingface.js and
 * Python's huggingface_hub read: ETag, X-Repo-Commit, and for LFS files X-Linked-Size and
 * X-Linked-Etag.
 */
import { redirectToCdn } from "../cdn.js";
import type { RequestContext } from "../context.js";
import { lfsPointerText } from "../git-hash.js";
import { entryNotFound } from "../hub-error.js";
import { parseRange } from "../http/range.js";
import { send, type Body } from "../http/respond.js";
import { own } from "../own.js";
import type { FileEntry } from "../types.js";
import { repoFor } from "./common.js";

export function resolveFile(ctx: RequestContext): Promise<void> {
  return serveFile(ctx, "resolve");
}

export function rawFile(ctx: RequestContext): Promise<void> {
  return serveFile(ctx, "raw");
}

async function serveFile(ctx: RequestContext, mode: "resolve" | "raw"): Promise<void> {
  const [id = "", revision = "", path = ""] = ctx.params;
  const repo = repoFor(ctx, id, "download");
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  const entry = own(commit.files, path);
  if (!entry) throw entryNotFound(repo.id, path, revision);
  if (mode === "resolve" && entry.lfs && ctx.hub.cdn) return redirectToCdn(ctx, entry.lfs, commit.id);
  const { body, size, headers } = contentOf(ctx, entry, mode);
  Object.assign(headers, {
    "Accept-Ranges": "bytes",
    "Content-Type": contentType(path),
    "X-Repo-Commit": commit.id,
  });
  const range = parseRange(ctx.req.headers.range, size);
  if (range.kind === "unsatisfiable") {
    await send(ctx, 416, { ...headers, "Content-Range": `bytes */${size}` });
  } else if (range.kind === "partial") {
    const part = slice(body, range.start, range.end + 1);
    await send(ctx, 206, { ...headers, "Content-Range": `bytes ${range.start}-${range.end}/${size}` }, part);
  } else {
    await send(ctx, 200, headers, body);
  }
}

interface FileContent {
  body: Body;
  size: number;
  headers: Record<string, string>;
}

function contentOf(ctx: RequestContext, entry: FileEntry, mode: "resolve" | "raw"): FileContent {
  const blobs = ctx.hub.store.blobs;
  if (entry.lfs && mode === "resolve") {
    const { oid, size } = entry.lfs;
    return {
      body: { file: blobs.lfsPath(oid), start: 0, end: size },
      size,
      headers: { ETag: `"${oid}"`, "X-Linked-Etag": `"${oid}"`, "X-Linked-Size": String(size) },
    };
  }
  if (entry.lfs) {
    const pointer = Buffer.from(lfsPointerText(entry.lfs.oid, entry.lfs.size));
    return { body: pointer, size: pointer.byteLength, headers: { ETag: `"${entry.oid}"` } };
  }
  return {
    body: { file: blobs.regularPath(entry.oid), start: 0, end: entry.size },
    size: entry.size,
    headers: { ETag: `"${entry.oid}"` },
  };
}

function slice(body: Body, start: number, end: number): Body {
  if (body instanceof Uint8Array) return body.subarray(start, end);
  return { file: body.file, start: body.start + start, end: body.start + end };
}

function contentType(path: string): string {
  if (path.endsWith(".json")) return "application/json";
  if (path.endsWith(".md") || path.endsWith(".txt") || path.endsWith(".yaml") || path.endsWith(".yml")) {
    return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}
