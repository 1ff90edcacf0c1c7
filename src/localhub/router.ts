/** A table of (methods, path pattern, handler) and the lookup that picks one for a request. */
import type { RequestContext } from "./context.js";
import { HubError, badRequest } from "./hub-error.js";

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  methods: readonly string[];
  /** Matched against the raw (still percent-encoded) path; captures are decoded. */
  pattern: RegExp;
  handler: Handler;
}

/** One path segment; revisions such as `refs/pr/1` may arrive unencoded. */
export const REV = String.raw`(refs(?:/|%2F)(?:pr|convert)(?:/|%2F)[^/]+|[^/]+)`;
/** `namespace/name`. */
export const REPO = String.raw`([^/]+/[^/]+)`;

export function route(methods: readonly string[], pattern: string, handler: Handler): Route {
  return { methods, pattern: new RegExp(`^${pattern}$`), handler };
}

/** The route for a request and its decoded captures; throws 404/405 when there is none. */
export function matchRoute(routes: readonly Route[], method: string, rawPath: string) {
  let pathMatched = false;
  for (const candidate of routes) {
    const match = candidate.pattern.exec(rawPath);
    if (!match) continue;
    pathMatched = true;
    if (!candidate.methods.includes(method)) continue;
    return { handler: candidate.handler, params: match.slice(1).map((part) => decode(part ?? "")) };
  }
  if (pathMatched) throw new HubError(405, `${method} is not allowed on ${rawPath}`);
  throw new HubError(404, `Not found: ${rawPath}`);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw badRequest(`malformed percent-encoding in "${part}"`);
  }
}
