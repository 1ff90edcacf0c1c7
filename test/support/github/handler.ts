/** One request: log it, inject a fault or authenticate, route, and write GitHub's response. */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthOutcome } from "./credentials.js";
import { faultResponse, type GitHubFaults, type RequestRecord } from "./faults.js";
import { ApiError, DOCS_URL, readJsonBody, type Reply, type RouteContext } from "./http.js";
import { matchRoute } from "./router.js";
import { ROUTES } from "./routes/table.js";
import type { GitHubState } from "./state.js";

export interface HandlerServices {
  state: GitHubState;
  faults: GitHubFaults;
  requests: RequestRecord[];
  /** Known once the server listens. */
  apiUrl: () => string;
  log?: (line: string) => void;
}

const RATE_LIMIT = 5000;

export function createRequestHandler(
  services: HandlerServices,
): (req: IncomingMessage, res: ServerResponse) => void {
  let served = 0;
  return (req, res) => {
    const record: RequestRecord = { method: req.method ?? "GET", path: "", query: "", status: 0 };
    services.requests.push(record);
    res.on("close", () => {
      record.status = res.statusCode;
      services.log?.(`${record.method} ${record.path} ${record.status}`);
    });
    const common = commonHeaders(++served, services.state.clock);
    handle(services, req, res, record, common).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) writeError(res, common, new ApiError(500, `local GitHub failed: ${message}`));
      else res.destroy();
    });
  };
}

async function handle(
  services: HandlerServices,
  req: IncomingMessage,
  res: ServerResponse,
  record: RequestRecord,
  common: Headers,
): Promise<void> {
  const { state, faults } = services;
  const apiUrl = services.apiUrl();
  const url = new URL(req.url ?? "/", apiUrl);
  record.query = url.search.replace(/^\?/, "");
  let path: string;
  try {
    path = decodeURIComponent(url.pathname).replace(/\/+$/, "") || "/";
  } catch {
    return writeError(res, common, new ApiError(400, "Malformed URL path"));
  }
  record.path = path;
  const fault = faults.decide(record.method, path);
  if (fault !== undefined) {
    record.faulted = true;
    const { message, documentation, headers } = faultResponse(fault);
    return writeError(
      res,
      { ...common, ...headers },
      new ApiError(fault.status, message, { documentationUrl: documentation }),
    );
  }
  const auth: AuthOutcome = state.credentials.authenticate(req.headers.authorization);
  if ("failure" in auth) return writeError(res, common, new ApiError(401, auth.failure));
  const method = record.method === "HEAD" ? "GET" : record.method;
  const found = matchRoute(ROUTES, method, path);
  if (found === undefined) return writeError(res, common, new ApiError(404, "Not Found"));
  try {
    const body = method === "GET" ? {} : await readJsonBody(req);
    const ctx: RouteContext = {
      method,
      path,
      params: found.params,
      query: url.searchParams,
      headers: req.headers,
      body,
      principal: auth.principal,
      state,
      apiUrl,
    };
    writeReply(res, common, await found.route.handle(ctx), record.method === "HEAD");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    writeError(res, common, error);
  }
}

type Headers = Record<string, string>;

function commonHeaders(served: number, clock: () => Date): Headers {
  const reset = Math.floor(clock().getTime() / 1000 / 3600 + 1) * 3600;
  const used = ((served - 1) % (RATE_LIMIT - 1)) + 1;
  const id = randomBytes(10).toString("hex").toUpperCase();
  return {
    "x-github-request-id": `${id.slice(0, 4)}:${id.slice(4, 8)}:${id.slice(8, 14)}:${id.slice(14)}:${served.toString(16).toUpperCase()}`,
    "x-ratelimit-limit": String(RATE_LIMIT),
    "x-ratelimit-remaining": String(RATE_LIMIT - used),
    "x-ratelimit-used": String(used),
    "x-ratelimit-reset": String(reset),
    "x-ratelimit-resource": "core",
    "x-github-media-type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
  };
}

function writeReply(res: ServerResponse, common: Headers, reply: Reply, head: boolean): void {
  const headers: Headers = { ...common, ...reply.headers };
  let body: Buffer | undefined = reply.raw;
  if (body === undefined && reply.body !== undefined) {
    body = Buffer.from(JSON.stringify(reply.body));
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  res.writeHead(reply.status, { ...headers, "content-length": String(body?.byteLength ?? 0) });
  res.end(head || reply.status === 204 ? undefined : body);
}

function writeError(res: ServerResponse, common: Headers, error: ApiError): void {
  const body = {
    message: error.message,
    ...(error.extra.errors ? { errors: error.extra.errors } : {}),
    documentation_url: error.extra.documentationUrl ?? DOCS_URL,
    status: String(error.status),
  };
  writeReply(res, common, { status: error.status, body, headers: error.extra.headers }, false);
}
