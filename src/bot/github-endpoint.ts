/**
 * `POST /github/webhook`: GitHub `push` events, verified with `X-Hub-Signature-256` by
 * @octokit/webhooks. A push to a served repository's default branch that touches a manifest
 * (or whose commit list cannot tell) re-reads that repository at the pushed commit. The
 * answer comes at once (GitHub waits 10 s at most); the refresh runs behind it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhooks } from "@octokit/webhooks";
import { createPathMatcher } from "./glob.js";
import { headerValue, parseJson, readBody, rejectBody, sendJson } from "./http-io.js";
import type { Logger } from "./log.js";
import type { IndexRefresher } from "./refresher.js";

export interface GitHubEndpointDeps {
  /** Undefined: the endpoint is off (404). */
  secret: string | undefined;
  maxBodyBytes: number;
  refresher: IndexRefresher;
  logger: Logger;
}

interface PushPayload {
  ref?: unknown;
  after?: unknown;
  deleted?: unknown;
  repository?: { full_name?: unknown; default_branch?: unknown };
  commits?: unknown;
}

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

type PushDecision = { refresh: false; reason: string } | { refresh: true; repo: string; ref?: string };

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
  const after = payload.after;
  const atCommit = payload.deleted !== true && typeof after === "string" && /^[0-9a-f]{40}$/.test(after);
  return { refresh: true, repo: watched.repo, ...(atCommit ? { ref: after } : {}) };
}

export function createGitHubEndpoint(deps: GitHubEndpointDeps) {
  const { logger } = deps;
  const webhooks = deps.secret === undefined ? undefined : new Webhooks({ secret: deps.secret });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (webhooks === undefined) {
      return sendJson(res, 404, { error: "GitHub webhooks are off: GITHUB_WEBHOOK_SECRET is not set" });
    }
    const read = await readBody(req, deps.maxBodyBytes);
    if (!read.ok) return rejectBody(res, read, deps.maxBodyBytes);
    const text = read.body.toString("utf8");
    const signature = headerValue(req, "x-hub-signature-256");
    const verified = signature !== undefined && text !== "" && (await webhooks.verify(text, signature));
    if (!verified) {
      logger.warn("github_webhook.unauthorized", {
        reason: signature === undefined ? "no signature" : "bad signature",
      });
      return sendJson(res, 401, { error: "missing or wrong X-Hub-Signature-256" });
    }
    const event = headerValue(req, "x-github-event") ?? "";
    const delivery = headerValue(req, "x-github-delivery");
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
    logger.info("github_webhook.refresh", { delivery, repo: decision.repo, ref: decision.ref });
    const watched = deps.refresher.watched(decision.repo)!;
    void deps.refresher.refresh(watched, decision.ref);
    return sendJson(res, 202, { status: "refreshing", repo: decision.repo, ref: decision.ref ?? null });
  };
}
