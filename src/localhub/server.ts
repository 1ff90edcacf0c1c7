/**
 * The local Hub: a node:http server on 127.0.0.1 that speaks enough of the Hugging Face Hub
 * protocol for the unmodified `@huggingface/hub` client (and Python's huggingface_hub) to create
 * repos, upload (regular and LFS, single and multipart), commit and download.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HubmergeError } from "../errors.js";
import { LocalHubAdmin } from "./admin.js";
import { TokenRegistry } from "./auth.js";
import { startCdn, type CdnOptions, type LocalCdn } from "./cdn.js";
import type { HubServices, RequestContext } from "./context.js";
import { FaultInjector, type FaultRule } from "./faults.js";
import { HubError } from "./hub-error.js";
import { sendError } from "./http/respond.js";
import { LinkPacer, type LinkPacing } from "./pacing.js";
import { RepoStore } from "./repo-store.js";
import { RequestLog } from "./request-log.js";
import { claimStorageFolder } from "./storage-marker.js";
import { matchRoute } from "./router.js";
import { ROUTES } from "./routes/table.js";
import type { TokenSpec } from "./types.js";
import { UploadSigner } from "./upload-signer.js";

export interface LocalHubOptions {
  /** Where repositories and objects are stored; reopened as is on the next start. */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: "127.0.0.1";
  tokens?: TokenSpec[];
  faults?: FaultRule[];
  /** Seed of the generator behind fault rules' `rate` (default 1). */
  faultSeed?: number;
  /** LFS objects above this many bytes are uploaded in parts (default 20 MiB). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (default half the threshold). */
  multipartChunkSize?: number;
  /** Entries per page of the tree API (default 1000). */
  treePageSize?: number;
  /** How long LFS upload URLs stay valid, in seconds (default 3600; the batch API says so). */
  uploadUrlTtlSeconds?: number;
  /** One line per request (method, path, status, time); tokens never appear. */
  log?: (line: string) => void;
  /** Rate per connection, total rate and first-byte latency of what is sent (pacing.ts). */
  pacing?: LinkPacing;
  /** Serve LFS files from a second origin through signed, expiring URLs (cdn.ts). */
  cdn?: CdnOptions | boolean;
}

export interface LocalHub {
  /** `http://127.0.0.1:<port>`, no trailing slash: pass it as `hubUrl`. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly admin: LocalHubAdmin;
  readonly faults: FaultInjector;
  readonly requests: RequestLog;
  /** The link's pacing (changeable) and the bytes it carried. */
  readonly link: LinkPacer;
  /** The CDN origin, in CDN mode. */
  readonly cdn: LocalCdn | undefined;
  close(): Promise<void>;
}

const DEFAULT_MULTIPART_THRESHOLD = 20 * 1024 * 1024;

export async function startLocalHub(opts: LocalHubOptions): Promise<LocalHub> {
  const tokens = new TokenRegistry(opts.tokens ?? []);
  const store = await openStore(opts.dir);
  const threshold = opts.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const hub: HubServices = {
    store,
    baseUrl: "",
    signer: new UploadSigner(opts.uploadUrlTtlSeconds),
    multipartThreshold: threshold,
    multipartChunkSize: opts.multipartChunkSize ?? Math.max(1, Math.ceil(threshold / 2)),
    treePageSize: opts.treePageSize ?? 1000,
    link: new LinkPacer(opts.pacing),
  };
  const deps: Deps = {
    hub,
    tokens,
    faults: new FaultInjector(opts.faults ?? [], opts.faultSeed ?? 1),
    requests: new RequestLog(),
    log: opts.log,
  };
  // Last resort: an error while answering an error (e.g. a throwing fault predicate) must not
  // become an unhandled rejection that ends the process.
  const server = createServer((req, res) => {
    handleRequest(req, res, deps).catch((error: unknown) => {
      deps.log?.(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      res.destroy();
    });
  });
  const port = await listen(server, opts.port ?? 0, opts.host ?? "127.0.0.1");
  hub.baseUrl = `http://127.0.0.1:${port}`;
  if (opts.cdn) {
    const cdnOptions = opts.cdn === true ? {} : opts.cdn;
    hub.cdn = await startCdn(cdnOptions, { hub, faults: deps.faults, log: deps.requests });
  }
  return {
    url: hub.baseUrl,
    port,
    dir: opts.dir,
    admin: new LocalHubAdmin(store),
    faults: deps.faults,
    requests: deps.requests,
    link: hub.link,
    cdn: hub.cdn,
    close: async () => {
      await hub.cdn?.close();
      await closeServer(server);
    },
  };
}

interface Deps {
  hub: HubServices;
  tokens: TokenRegistry;
  faults: FaultInjector;
  requests: RequestLog;
  log: ((line: string) => void) | undefined;
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, deps: Deps): Promise<void> {
  const started = Date.now();
  // Concatenated, not resolved: a request target such as `//host/x` must stay a path.
  const url = new URL(`http://127.0.0.1${req.url?.startsWith("/") ? req.url : "/"}`);
  const method = (req.method ?? "GET").toUpperCase();
  const path = safeDecode(url.pathname);
  const range = req.headers.range;
  const record = deps.requests.add({ method, path, range, status: 0 });
  res.on("close", () => {
    record.status = res.statusCode;
    const fault = record.fault ? ` fault=${record.fault}` : "";
    deps.log?.(`${method} ${path} ${res.statusCode} ${Date.now() - started}ms${fault}`);
  });
  res.setHeader("X-Request-Id", randomUUID());
  const fault = deps.faults.decide({ method, path, url: req.url ?? "/", range, headers: req.headers });
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
    ctx.identity = deps.tokens.identify(req.headers.authorization);
    if (ctx.identity.kind === "invalid")
      throw new HubError(401, "Invalid credentials in Authorization header");
    const { handler, params } = matchRoute(ROUTES, method, url.pathname);
    ctx.params = params;
    await handler(ctx);
  } catch (error) {
    await answerError(ctx, error, deps.log);
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

async function answerError(ctx: RequestContext, error: unknown, log: Deps["log"]): Promise<void> {
  const { req, res } = ctx;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An upload refused halfway: close the connection rather than read the rest of its body.
  if (!req.complete) res.setHeader("Connection", "close");
  const hubError =
    error instanceof HubError
      ? error
      : new HubError(500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof HubError))
    log?.(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
  await sendError({ ...ctx, bodyFault: undefined }, hubError);
  if (!req.complete) req.resume();
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function openStore(dir: string): Promise<RepoStore> {
  await claimStorageFolder(dir);
  try {
    return await RepoStore.open(dir);
  } catch (error) {
    throw new HubmergeError("E_IO", `cannot open the local hub's storage folder ${dir}: ${String(error)}`, {
      hint: "Check that the folder is writable and was written by this tool (or start with an empty one).",
      cause: error,
    });
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(
        new HubmergeError(
          "E_USAGE",
          `the local hub cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
          {
            hint: "Pick another port, or 0 for any free one.",
            cause: error,
          },
        ),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
