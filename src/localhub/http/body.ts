/** Reading request bodies with a size limit, and validating JSON ones. */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { HubError, badRequest } from "../hub-error.js";

/** The default cap of a JSON body; routes whose bodies are small pass a smaller one. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** The body, refused with 413 before any byte is read when its declared length is over `limit`. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new HubError(413, `request body of ${declared} bytes exceeds ${limit}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).byteLength;
    if (total > limit) throw new HubError(413, `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(`invalid ${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`${what} is not valid JSON`);
  }
}

/** The body as JSON checked against `schema`; at most `limit` bytes. */
export async function readJson<T>(
  req: IncomingMessage,
  schema: z.ZodType<T>,
  what: string,
  limit = MAX_JSON_BYTES,
): Promise<T> {
  const body = await readBody(req, limit);
  return parseWith(schema, parseJsonText(body.toString("utf8"), what), what);
}
