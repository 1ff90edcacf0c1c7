/** Request and response plumbing for the bot's node:http server: capped bodies, JSON replies,
 * and the sender's address. */
import type { IncomingMessage, ServerResponse } from "node:http";

export type BodyResult =
  | { ok: true; body: Buffer }
  /** `drop`: the rest of the body was not read; close the connection after answering. */
  | { ok: false; reason: "too large"; drop: boolean }
  | { ok: false; reason: "aborted" };

/** How far past the cap an oversized body is still drained (so the client reads the 413) before
 * the connection is dropped instead: 15 times the cap, at most 4 MiB. */
function drainLimit(limit: number): number {
  return limit + Math.min(limit * 15, 4 * 1024 * 1024);
}

/**
 * Reads at most `limit` bytes. A larger body (declared or sent) is drained without being kept,
 * so that the client still reads the 413, unless it is past `drainable` (default: somewhat past
 * the cap; `limit` itself drains nothing): then reading stops and the socket is destroyed.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  drainable: number = drainLimit(limit),
): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > drainable) {
    return { ok: false, reason: "too large", drop: true };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > drainable) return { ok: false, reason: "too large", drop: true };
      if (size <= limit) chunks.push(chunk);
    }
  } catch {
    return { ok: false, reason: "aborted" };
  }
  return size > limit
    ? { ok: false, reason: "too large", drop: false }
    : { ok: true, body: Buffer.concat(chunks) };
}

/** Answers a body that could not be read: 413 (closing the connection if the body was left unread). */
export function rejectBody(
  res: ServerResponse,
  result: Exclude<BodyResult, { ok: true }>,
  limit: number,
): void {
  if (result.reason === "aborted") {
    res.destroy();
    return;
  }
  if (result.drop) res.once("finish", () => res.socket?.destroy());
  sendJson(
    res,
    413,
    { error: `body larger than ${limit} bytes` },
    result.drop ? { connection: "close" } : {},
  );
}

/**
 * Answers before reading the body, and closes the connection once the answer is out: otherwise
 * node:http would read (and discard) the whole body to keep the connection alive.
 */
export function refuseUnread(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  res.once("finish", () => res.socket?.destroy());
  sendJson(res, status, body, { ...headers, connection: "close" });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** The sender: the socket's peer, or behind a trusted proxy the hop that proxy appended last. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string" && forwarded.trim() !== "") {
    const hops = forwarded.split(",").map((hop) => hop.trim());
    const last = hops[hops.length - 1];
    if (last) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}
