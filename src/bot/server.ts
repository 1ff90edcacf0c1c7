/**
 * The bot's HTTP server: routes, health, and a graceful stop (refuse new requests, let running
 * ones finish, flush debounced dispatches, close connections), all within a time limit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendJson } from "./http-io.js";
import type { Logger } from "./log.js";

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ServerRoutes {
  hubWebhook: Handler;
  githubWebhook: Handler;
  health: () => Record<string, unknown>;
}

export interface BotServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting; resolves once running handlers finished (or `timeoutMs` passed). */
  drain(timeoutMs: number): Promise<void>;
  /** Closes every connection and the listener. */
  close(): Promise<void>;
}

const ROOT_INFO = {
  name: "hubmerge bot",
  endpoints: {
    "POST /webhook": "Hugging Face webhook",
    "POST /github/webhook": "GitHub push webhook",
    "GET /healthz": "health",
  },
};

function route(routes: ServerRoutes, req: IncomingMessage): Handler | undefined {
  const path = new URL(req.url ?? "/", "http://bot.invalid").pathname.replace(/\/+$/, "") || "/";
  const method = req.method ?? "GET";
  const get =
    (body: () => Record<string, unknown>): Handler =>
    async (_req, res) =>
      sendJson(res, 200, body());
  const table: Record<string, Record<string, Handler>> = {
    "/webhook": { POST: routes.hubWebhook },
    "/github/webhook": { POST: routes.githubWebhook },
    "/healthz": { GET: get(routes.health), HEAD: get(routes.health) },
    "/": { GET: get(() => ROOT_INFO) },
  };
  const methods = table[path];
  if (methods === undefined) return async (_req, res) => sendJson(res, 404, { error: `no route ${path}` });
  return (
    methods[method] ??
    (async (_req, res) =>
      sendJson(res, 405, { error: `${method} not allowed` }, { allow: Object.keys(methods).join(", ") }))
  );
}

export async function startServer(options: {
  host: string;
  port: number;
  routes: ServerRoutes;
  logger: Logger;
}): Promise<BotServer> {
  const { logger } = options;
  const running = new Set<Promise<void>>();
  let stopping = false;
  const server: Server = createServer((req, res) => {
    if (stopping) return sendJson(res, 503, { error: "shutting down" }, { connection: "close" });
    const handler = route(options.routes, req)!;
    const task = handler(req, res).catch((error: unknown) => {
      logger.error("http.handler_failed", { method: req.method, path: req.url?.split("?")[0], error });
      sendJson(res, 500, { error: "internal error" });
    });
    running.add(task);
    void task.finally(() => running.delete(task));
  });
  // Bounds slow senders; a webhook body arrives in well under this.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    async drain(timeoutMs) {
      stopping = true;
      server.close();
      server.closeIdleConnections();
      await withTimeout(Promise.allSettled([...running]), timeoutMs);
    },
    async close() {
      stopping = true;
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Resolves when `work` settles or after `ms`, whichever comes first; true when it settled. */
export async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
