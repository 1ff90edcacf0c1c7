/**
 * The local GitHub: a node:http server on 127.0.0.1 speaking enough of the REST API for
 * unmodified octokit clients (with `baseUrl` pointed at it) to read contents, write commits
 * through the Git Data API, open pull requests, keep a sticky comment, send repository
 * dispatches and authenticate as a GitHub App. State lives in memory and is open to tests.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Credentials, type AppConfig, type AuthOutcome, type TokenSpec } from "./credentials.js";
import { faultResponse, GitHubFaults, type RequestRecord } from "./faults.js";
import { ApiError, DOCS_URL, readJsonBody, type Reply, type RouteContext } from "./http.js";
import { LocalGitHubAdmin } from "./admin.js";
import { matchRoute } from "./router.js";
import { ROUTES } from "./routes/table.js";
import { GitHubState } from "./state.js";

export interface LocalGitHubOptions {
  /** Tokens accepted in `Authorization: token|Bearer <t>`; a bare string acts as github-actions[bot]. */
  tokens?: TokenSpec[];
  /** A GitHub App whose RS256 JWTs (iss = id) are verified with this public key. */
  app?: AppConfig;
  /** `"owner/repo"` → installation id of the app. */
  installations?: Record<string, number>;
  /** Time for tokens, JWT checks and timestamps (default: the real clock). */
  clock?: () => Date;
  /** One line per request (method, path, status); tokens never appear. */
  log?: (line: string) => void;
}

export interface LocalGitHub extends LocalGitHubAdmin {
  /** `http://127.0.0.1:<port>`, no trailing slash: pass it as octokit's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  readonly faults: GitHubFaults;
  /** Every request so far, oldest first. */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  close(): Promise<void>;
}

const RATE_LIMIT = 5000;

export async function startLocalGitHub(opts: LocalGitHubOptions = {}): Promise<LocalGitHub> {
  const clock = opts.clock ?? (() => new Date());
  const credentials = new Credentials(opts.tokens ?? [], opts.app, opts.installations ?? {}, clock);
  const state = new GitHubState(credentials, clock);
  const faults = new GitHubFaults();
  const requests: RequestRecord[] = [];
  let apiUrl = "";
  let served = 0;

  const server = createServer((req, res) => {
    const record: RequestRecord = { method: req.method ?? "GET", path: "", query: "", status: 0 };
    requests.push(record);
    served++;
    res.on("close", () => {
      record.status = res.statusCode;
      opts.log?.(`${record.method} ${record.path} ${record.status}`);
    });
    const common = commonHeaders(served, clock);
    handle(req, res, record, common).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) writeError(res, common, new ApiError(500, `local GitHub failed: ${message}`));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, record: RequestRecord, common: Headers) {
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
    const auth: AuthOutcome = credentials.authenticate(req.headers.authorization);
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

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  apiUrl = `http://127.0.0.1:${port}`;
  const admin = new LocalGitHubAdmin(state);

  return Object.assign(admin, {
    url: apiUrl,
    port,
    faults,
    requests: requests as readonly RequestRecord[],
    clearRequests: () => void requests.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  });
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
