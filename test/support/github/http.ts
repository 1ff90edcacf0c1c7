/** What routes see and return, GitHub-shaped errors, request bodies and pagination. */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Principal } from "./credentials.js";
import type { RepoState } from "./repo-state.js";
import type { GitHubState } from "./state.js";

export const DOCS_URL = "https://docs.github.com/rest";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { errors?: unknown[]; documentationUrl?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export const notFound = (): ApiError => new ApiError(404, "Not Found");

/** GitHub's 422 for a body that fails the endpoint's schema. */
export function invalidRequest(detail: string): ApiError {
  return new ApiError(422, `Invalid request.\n\n${detail}`);
}

export interface Reply {
  status: number;
  /** JSON-encoded unless `raw` is given. */
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
}

export interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  principal: Principal | undefined;
  state: GitHubState;
  /** The server's base URL, no trailing slash. */
  apiUrl: string;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, "Request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "Problems parsing JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "Body should be a JSON object");
  }
  return value as Record<string, unknown>;
}

export function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) throw invalidRequest(`"${field}" wasn't supplied.`);
  if (typeof value !== "string") throw invalidRequest(`Invalid value for "${field}": must be a string.`);
  return value;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidRequest(`Invalid value for "${field}": must be a string.`);
  return value;
}

/** The repository named by `{owner}/{repo}`; private ones are 404 to callers without a token. */
export function readableRepo(ctx: RouteContext): RepoState {
  const repo = ctx.state.repo(`${ctx.params.owner}/${ctx.params.repo}`);
  if (repo === undefined) throw notFound();
  if (repo.isPrivate && ctx.principal?.kind !== "token" && !installationCovers(ctx, repo)) throw notFound();
  return repo;
}

function installationCovers(ctx: RouteContext, repo: RepoState): boolean {
  return (
    ctx.principal?.kind === "installation" && ctx.state.credentials.mayWrite(ctx.principal, repo.fullName)
  );
}

/** Like `readableRepo`, and the caller must hold a token allowed to write to it. */
export function writableRepo(ctx: RouteContext): RepoState {
  const principal = requireUser(ctx);
  const repo = readableRepo(ctx);
  if (!ctx.state.credentials.mayWrite(principal, repo.fullName)) {
    throw new ApiError(403, "Resource not accessible by integration");
  }
  return repo;
}

export type UserPrincipal = Exclude<Principal, { kind: "app" }>;

export function requireUser(ctx: RouteContext): UserPrincipal {
  const { principal } = ctx;
  if (principal === undefined) throw new ApiError(401, "Requires authentication");
  if (principal.kind === "app") {
    throw new ApiError(403, "A JSON web token cannot access this endpoint: use an installation access token");
  }
  return principal;
}

/** `per_page` (default 30, at most 100) and `page` (from 1), with GitHub's Link header. */
export function paginate<T>(ctx: RouteContext, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get("per_page") ?? 30) || 30));
  const page = Math.max(1, Math.floor(Number(ctx.query.get("page") ?? 1) || 1));
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const query = new URLSearchParams(ctx.query);
    query.set("per_page", String(perPage));
    query.set("page", String(n));
    return `<${ctx.apiUrl}${encodePath(ctx.path)}?${query}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, "prev"));
  if (page < lastPage) links.push(link(page + 1, "next"), link(lastPage, "last"));
  if (page > 1) links.push(link(1, "first"));
  const headers: Record<string, string> = links.length > 0 ? { link: links.join(", ") } : {};
  return { items: items.slice((page - 1) * perPage, page * perPage), headers };
}

export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
