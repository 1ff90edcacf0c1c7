/**
 * `POST /github/webhook`: GitHub `push` events, verified with `X-Hub-Signature-256` by
 * @octokit/webhooks. A push to a served repository's default branch that touches a manifest
 * (or whose commit list cannot tell) makes the bot re-read that branch's head. The answer
 * comes at once (GitHub waits 10 s at most); the refresh runs behind it.
 *
 * Untrusted senders pay as little as possible, in this order: the rate limit per sender (429),
 * a signature header of the right shape (401) and the declared length (413) are checked before
 * a byte of the body is read, and reading stops at the cap. A verified delivery seen before
 * (by id or by body) is ignored, and the payload's `after` is never read at: an old push
 * replayed or delivered late cannot roll the index back to an older commit.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhooks } from "@octokit/webhooks";
import type { DeliveryGuard } from "./delivery-guard.js";
import { createPathMatcher } from "./glob.js";
import {
  clientAddress,
  headerValue,
  parseJson,
  readBody,
  refuseUnread,
  rejectBody,
  sendJson,
} from "./http-io.js";
import type { Logger } from "./log.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { IndexRefresher } from "./refresher.js";

export interface GitHubEndpointDeps {
  /** Undefined: the endpoint is off (404). */
  secret: string | undefined;
  maxBodyBytes: number;
  trustProxy: boolean;
  limiter: RateLimiter;
  deliveries: DeliveryGuard;
  refresher: IndexRefresher;
  logger: Logger;
}

interface PushPayload {
  ref?: unknown;
  repository?: { full_name?: unknown; default_branch?: unknown };
  commits?: unknown;
}

/** What GitHub sends: `sha256=` and 64 hex digits. Anything else is not worth reading a body for. */
const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;

/** Paths a push's commits added, modified or removed; undefined when the list is missing. */
function touchedPaths(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0) return undefined;
  const paths: string[] = [];
  for (const commit of commits as Record<string, unknown>[]) {
    for (const field of ["added", "modified", "removed"]) {
      const list = commit?.[field];
      if (Array.isArray(list)) for (const path of list) if (typeof path === "string") paths.push(path);
    }
  }
  return paths;
}

type PushDecision = { refresh: false; reason: string } | { refresh: true; repo: string; branch: string };

function decidePush(payload: PushPayload, deps: GitHubEndpointDeps): PushDecision {
  const name = payload.repository?.full_name;
  const watched = typeof name === "string" ? deps.refresher.watched(name) : undefined;
  if (watched === undefined) return { refresh: false, reason: `${String(name)} is not a served repository` };
  const branch = payload.repository?.default_branch;
  if (typeof branch !== "string" || payload.ref !== `refs/heads/${branch}`) {
    return { refresh: false, reason: `${String(payload.ref)} is not the default branch` };
  }
  const paths = touchedPaths(payload.commits);
  if (paths !== undefined && !paths.some(createPathMatcher(watched.manifests))) {
    return { refresh: false, reason: "no manifest changed" };
  }
  return { refresh: true, repo: watched.repo, branch };
}

/** The checks made before the body is read; true when the request may go on. */
function admitSender(req: IncomingMessage, res: ServerResponse, deps: GitHubEndpointDeps): boolean {
  const sender = clientAddress(req, deps.trustProxy);
  const wait = deps.limiter.take(sender);
  if (wait > 0) {
    deps.logger.warn("github_webhook.rate_limited", { sender, retryAfterSeconds: wait });
    refuseUnread(res, 429, { error: "too many requests" }, { "retry-after": String(wait) });
    return false;
  }
  const signature = headerValue(req, "x-hub-signature-256");
  if (signature === undefined || !SIGNATURE.test(signature)) {
    deps.logger.warn("github_webhook.unauthorized", {
      sender,
      reason: signature === undefined ? "no signature" : "malformed signature",
    });
    refuseUnread(res, 401, { error: "missing or wrong X-Hub-Signature-256" });
    return false;
  }
  return true;
}

export function createGitHubEndpoint(deps: GitHubEndpointDeps) {
  const { logger } = deps;
  const webhooks = deps.secret === undefined ? undefined : new Webhooks({ secret: deps.secret });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (webhooks === undefined) {
      return refuseUnread(res, 404, { error: "GitHub webhooks are off: GITHUB_WEBHOOK_SECRET is not set" });
    }
    if (!admitSender(req, res, deps)) return;
    // No draining past the cap: a body that does not fit is cut off, not read to its end.
    const read = await readBody(req, deps.maxBodyBytes, deps.maxBodyBytes);
    if (!read.ok) return rejectBody(res, read, deps.maxBodyBytes);
    const text = read.body.toString("utf8");
    if (text === "" || !(await webhooks.verify(text, headerValue(req, "x-hub-signature-256")!))) {
      logger.warn("github_webhook.unauthorized", { reason: "bad signature" });
      return sendJson(res, 401, { error: "missing or wrong X-Hub-Signature-256" });
    }
    const event = headerValue(req, "x-github-event") ?? "";
    const delivery = headerValue(req, "x-github-delivery");
    if (!deps.deliveries.admit(delivery, read.body)) {
      logger.info("github_webhook.replayed", { delivery });
      return sendJson(res, 200, { status: "ignored", reason: "delivery already handled" });
    }
    if (event === "ping") return sendJson(res, 200, { status: "pong" });
    if (event !== "push")
      return sendJson(res, 200, { status: "ignored", reason: `event ${event} is not push` });
    const json = parseJson(read.body);
    if (!json.ok || typeof json.value !== "object" || json.value === null) {
      return sendJson(res, 400, { error: "the body is not a JSON object" });
    }
    const decision = decidePush(json.value as PushPayload, deps);
    if (!decision.refresh) {
      logger.info("github_webhook.ignored", { delivery, reason: decision.reason });
      return sendJson(res, 200, { status: "ignored", reason: decision.reason });
    }
    logger.info("github_webhook.refresh", { delivery, repo: decision.repo, branch: decision.branch });
    const watched = deps.refresher.watched(decision.repo)!;
    void deps.refresher.refresh(watched, decision.branch);
    return sendJson(res, 202, { status: "refreshing", repo: decision.repo, branch: decision.branch });
  };
}
