/**
 * CDN mode: LFS objects are served from a second origin (its own port), as the real Hub does.
 * `resolve` of an LFS file answers 302 to `{cdn}/cdn-lfs/{oid}?Expires=…&Signature=…`, a URL
 * signed with an HMAC over its path and expiry: the CDN checks the signature in constant time and
 * refuses (403) a URL that expired or was altered. It never sees, and needs, a token: the access
 * check happened at `resolve`. Tests read `cdn.requests` to prove no `Authorization` reached it.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HubServices, RequestContext } from "./context.js";
import type { FaultInjector, FaultRule } from "./faults.js";
import { HubError } from "./hub-error.js";
import { parseRange } from "./http/range.js";
import { send, sendError } from "./http/respond.js";
import type { CdnRequestRecord, LocalCdn } from "./cdn-types.js";
import type { RequestLog } from "./request-log.js";
import type { LfsInfo } from "./types.js";

export type { CdnRequestRecord, LocalCdn } from "./cdn-types.js";

export interface CdnOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** How long a signed URL stays valid (default one hour). */
  ttlMs?: number;
  /** The clock signatures are made and checked with (ms since the epoch); tests move it. */
  now?: () => number;
}

const DEFAULT_TTL_MS = 60 * 60 * 1000;
const CDN_PATH = /^\/cdn-lfs\/([0-9a-f]{64})$/;

interface CdnDeps {
  hub: HubServices;
  faults: FaultInjector;
  log: RequestLog;
}

export async function startCdn(options: CdnOptions, deps: CdnDeps): Promise<LocalCdn> {
  const secret = randomBytes(32);
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const signature = (path: string, expires: string) =>
    createHmac("sha256", secret).update(`${path}\n${expires}`).digest();
  const requests: CdnRequestRecord[] = [];
  const server = createServer((req, res) => {
    serve(req, res, { ...deps, requests, now, signature }).catch(() => res.destroy());
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    sign(oid) {
      const path = `/cdn-lfs/${oid}`;
      // Whole seconds, as CDNs write them; rounded up so a URL never lives less than ttlMs.
      const expires = String(Math.ceil((now() + ttlMs) / 1000));
      return `${url}${path}?Expires=${expires}&Signature=${signature(path, expires).toString("hex")}`;
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The 302 `resolve` answers for an LFS file in CDN mode, with the headers the real Hub sends. */
export async function redirectToCdn(ctx: RequestContext, lfs: LfsInfo, commit: string): Promise<void> {
  const cdn = ctx.hub.cdn!;
  await send(ctx, 302, {
    Location: cdn.sign(lfs.oid),
    ETag: `"${lfs.oid}"`,
    "X-Linked-Etag": `"${lfs.oid}"`,
    "X-Linked-Size": String(lfs.size),
    "X-Repo-Commit": commit,
  });
}

interface ServeDeps extends CdnDeps {
  requests: CdnRequestRecord[];
  now: () => number;
  signature: (path: string, expires: string) => Buffer;
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: ServeDeps): Promise<void> {
  const url = new URL(`http://127.0.0.1${req.url?.startsWith("/") ? req.url : "/"}`);
  const method = (req.method ?? "GET").toUpperCase();
  const range = req.headers.range;
  const seen: CdnRequestRecord = { path: url.pathname, range, headers: { ...req.headers }, status: 0 };
  deps.requests.push(seen);
  const record = deps.log.add({ method, path: url.pathname, range, status: 0 });
  res.on("close", () => (seen.status = record.status = res.statusCode));
  const fault = deps.faults.decide({
    method,
    path: url.pathname,
    url: req.url ?? "/",
    range,
    headers: req.headers,
  });
  if (fault) record.fault = fault.kind;
  const bodyFault = fault?.kind === "cutBody" || fault?.kind === "slowBody" ? fault : undefined;
  const ctx: RequestContext = {
    req,
    res,
    url,
    params: [],
    identity: { kind: "anonymous" },
    hub: deps.hub,
    bodyFault,
  };
  try {
    if (fault && !bodyFault) throw statusFault(fault);
    if (method !== "GET" && method !== "HEAD") throw new HubError(405, "the CDN serves GET and HEAD only");
    const oid = CDN_PATH.exec(url.pathname)?.[1];
    if (oid === undefined) throw new HubError(404, "no such object");
    checkSignature(url, deps);
    await serveObject(ctx, oid);
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    const hubError = error instanceof HubError ? error : new HubError(500, "internal error");
    await sendError({ ...ctx, bodyFault: undefined }, hubError);
  }
}

/** 403 for a missing, altered or expired signature, as S3/CloudFront answer. */
function checkSignature(url: URL, deps: ServeDeps): void {
  const expires = url.searchParams.get("Expires") ?? "";
  const given = Buffer.from(url.searchParams.get("Signature") ?? "", "hex");
  const expected = deps.signature(url.pathname, expires);
  if (!/^\d{1,12}$/.test(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HubError(403, "Access denied: bad signature");
  }
  if (Number(expires) * 1000 <= deps.now()) throw new HubError(403, "Request has expired");
}

async function serveObject(ctx: RequestContext, oid: string): Promise<void> {
  const blobs = ctx.hub.store.blobs;
  const size = await blobs.lfsSize(oid);
  if (size === undefined) throw new HubError(404, "no such object");
  const headers = {
    "Accept-Ranges": "bytes",
    "Content-Type": "application/octet-stream",
    ETag: `"${oid}"`,
  };
  const range = parseRange(ctx.req.headers.range, size);
  const file = blobs.lfsPath(oid);
  if (range.kind === "unsatisfiable") {
    await send(ctx, 416, { ...headers, "Content-Range": `bytes */${size}` });
  } else if (range.kind === "partial") {
    const body = { file, start: range.start, end: range.end + 1 };
    await send(ctx, 206, { ...headers, "Content-Range": `bytes ${range.start}-${range.end}/${size}` }, body);
  } else {
    await send(ctx, 200, headers, { file, start: 0, end: size });
  }
}

function statusFault(fault: FaultRule): HubError {
  if (fault.kind === "rate429") {
    const retryAfter = String(fault.retryAfterSeconds ?? 1);
    return new HubError(429, "Too Many Requests (injected fault)", undefined, { "Retry-After": retryAfter });
  }
  const status = fault.kind === "status503" ? 503 : 500;
  return new HubError(status, `Injected fault: ${status}`);
}
