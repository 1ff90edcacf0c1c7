/**
 * `POST /webhook`, the Hugging Face webhook. In order: rate limit per sender (429), the secret
 * (401), the body cap (413), JSON (400); then a model update that a served repository follows
 * is handed to the dispatcher (202). Anything else is answered 200 with the reason, so the
 * Hub's webhook activity tab shows why nothing happened.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Dispatcher } from "./dispatcher.js";
import {
  clientAddress,
  headerValue,
  parseJson,
  readBody,
  refuseUnread,
  rejectBody,
  sendJson,
} from "./http-io.js";
import { classifyHubWebhook } from "./hub-webhook.js";
import type { Logger } from "./log.js";
import type { RateLimiter } from "./rate-limiter.js";
import { secretMatches } from "./secret-compare.js";
import type { SubscriptionIndex } from "./subscriptions.js";

export interface HubEndpointDeps {
  secret: string;
  maxBodyBytes: number;
  trustProxy: boolean;
  limiter: RateLimiter;
  index: SubscriptionIndex;
  /** Resolves once the index was first built; updates wait for it, checks do not. */
  indexReady: Promise<void>;
  dispatcher: Dispatcher;
  logger: Logger;
}

export function createHubEndpoint(deps: HubEndpointDeps) {
  const { logger } = deps;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sender = clientAddress(req, deps.trustProxy);
    const wait = deps.limiter.take(sender);
    if (wait > 0) {
      logger.warn("hub_webhook.rate_limited", { sender, retryAfterSeconds: wait });
      return refuseUnread(res, 429, { error: "too many requests" }, { "retry-after": String(wait) });
    }
    if (!secretMatches(headerValue(req, "x-webhook-secret"), deps.secret)) {
      const present = headerValue(req, "x-webhook-secret") !== undefined;
      logger.warn("hub_webhook.unauthorized", { sender, reason: present ? "wrong secret" : "no secret" });
      return refuseUnread(res, 401, { error: "missing or wrong X-Webhook-Secret" });
    }
    const read = await readBody(req, deps.maxBodyBytes);
    if (!read.ok) {
      logger.warn("hub_webhook.body_rejected", { sender, reason: read.reason });
      return rejectBody(res, read, deps.maxBodyBytes);
    }
    const json = parseJson(read.body);
    if (!json.ok) return sendJson(res, 400, { error: "the body is not JSON" });
    const decision = classifyHubWebhook(json.value);
    if (decision.kind === "ignore") {
      logger.info("hub_webhook.ignored", { reason: decision.reason });
      return sendJson(res, 200, { status: "ignored", reason: decision.reason });
    }
    const { model, sha } = decision;
    await deps.indexReady;
    const repos = deps.index.subscribers(model);
    if (repos.length === 0) {
      const reason = `no served repository follows ${model}`;
      logger.info("hub_webhook.ignored", { model, sha, reason });
      return sendJson(res, 200, { status: "ignored", reason });
    }
    const offer = deps.dispatcher.offer(model, sha, repos);
    logger.info("hub_webhook.accepted", { model, sha, scheduled: offer.scheduled, skipped: offer.skipped });
    if (offer.scheduled.length === 0) {
      return sendJson(res, 200, {
        status: "ignored",
        reason: "already dispatched or scheduled",
        model,
        sha,
        skipped: offer.skipped,
      });
    }
    return sendJson(res, 202, { status: "accepted", model, sha, ...offer });
  };
}
