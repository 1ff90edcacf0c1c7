/**
 * The one place responses are written, so that HEAD, Content-Length and the body faults
 * (cutBody, slowBody) apply to every route alike.
 */
import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { RequestContext } from "../context.js";
import type { FaultRule } from "../faults.js";
import type { HubError } from "../hub-error.js";

/** Bytes in memory, or a byte range of a file (`end` exclusive). */
export type Body = Uint8Array | { file: string; start: number; end: number };

function bodyLength(body: Body): number {
  return body instanceof Uint8Array ? body.byteLength : body.end - body.start;
}

function openBody(body: Body): Readable {
  if (body instanceof Uint8Array)
    return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  if (body.end === body.start) return Readable.from([]);
  return createReadStream(body.file, { start: body.start, end: body.end - 1 });
}

export async function send(
  ctx: RequestContext,
  status: number,
  headers: Record<string, string | number>,
  body: Body = new Uint8Array(0),
): Promise<void> {
  const { res } = ctx;
  await ctx.hub.link.firstByte();
  res.writeHead(status, { ...headers, "Content-Length": bodyLength(body) });
  if (ctx.req.method === "HEAD") {
    res.end();
    return;
  }
  try {
    if (!ctx.bodyFault) await ctx.hub.link.pipe(openBody(body), res, ctx.req.socket);
    else await writeBody(res, body, ctx.bodyFault);
  } catch {
    // The client went away (or a fault cut it off): nothing more to say to it.
    res.destroy();
  }
}

export function sendJson(
  ctx: RequestContext,
  status: number,
  value: unknown,
  headers: Record<string, string | number> = {},
): Promise<void> {
  const body = Buffer.from(JSON.stringify(value));
  return send(ctx, status, { "Content-Type": "application/json; charset=utf-8", ...headers }, body);
}

/** `{"error": ...}` with the Hub's X-Error-Code / X-Error-Message headers. */
export function sendError(ctx: RequestContext, error: HubError): Promise<void> {
  const headers: Record<string, string> = { ...error.headers, "X-Error-Message": headerSafe(error.message) };
  if (error.errorCode) headers["X-Error-Code"] = error.errorCode;
  return sendJson(ctx, error.status, { ...error.fields, error: error.message }, headers);
}

function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 500);
}

async function writeBody(res: ServerResponse, body: Body, fault: FaultRule | undefined): Promise<void> {
  if (fault?.kind === "cutBody") return writeHalfThenCut(res, body);
  if (fault?.kind === "slowBody") return trickle(res, body, fault);
  await pipeline(openBody(body), res);
}

/** Sends the headers and the first half of the body, then destroys the connection. */
async function writeHalfThenCut(res: ServerResponse, body: Body): Promise<void> {
  let left = Math.floor(bodyLength(body) / 2);
  res.flushHeaders();
  const source = openBody(body);
  for await (const chunk of source) {
    if (left <= 0) break;
    const piece = (chunk as Buffer).subarray(0, left);
    left -= piece.byteLength;
    await write(res, piece);
  }
  source.destroy();
  res.destroy();
}

async function trickle(res: ServerResponse, body: Body, fault: FaultRule): Promise<void> {
  const pieceSize = Math.max(1, fault.chunkBytes ?? 1024);
  const delayMs = fault.delayMs ?? 20;
  res.flushHeaders();
  for await (const chunk of openBody(body)) {
    for (let at = 0; at < (chunk as Buffer).byteLength; at += pieceSize) {
      await write(res, (chunk as Buffer).subarray(at, at + pieceSize));
      await sleep(delayMs);
    }
  }
  await new Promise<void>((resolve) => res.end(resolve));
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}
