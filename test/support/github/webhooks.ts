/**
 * GitHub webhooks for the bot's tests: a `push` payload computed from the local GitHub's
 * history (which files each commit added, removed, modified), signed with
 * `X-Hub-Signature-256: sha256=<hex hmac of the exact body>`.
 */
import { createHmac, randomUUID } from "node:crypto";
import { HubmergeError } from "../../../src/errors.js";
import type { LocalGitHubAdmin } from "./admin.js";
import { pushEvent, type ActionEvent, type PushCommit } from "./events.js";

export interface SignedWebhook {
  event: string;
  deliveryId: string;
  /** The exact bytes that were signed; send them unchanged. */
  body: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function signWebhook(
  event: string,
  payload: Record<string, unknown>,
  secret: string,
  deliveryId: string = randomUUID(),
): SignedWebhook {
  const body = JSON.stringify(payload);
  const headers = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/local",
    "x-github-event": event,
    "x-github-delivery": deliveryId,
    "x-github-hook-id": "1",
    "x-hub-signature-256": signWebhookBody(secret, body),
  };
  return { event, deliveryId, body, headers, payload };
}

/**
 * A push event for `branch` from `before` (default: the parent of `after`) to `after`
 * (default: the branch head), commits oldest first, as both the Action and webhooks see it.
 */
export function pushEventFromRepo(
  github: LocalGitHubAdmin,
  repo: string,
  options: { branch?: string; before?: string; after?: string; sender?: string } = {},
): ActionEvent {
  const defaultBranch = github.defaultBranch(repo);
  const branch = options.branch ?? defaultBranch;
  const history = github.commits(repo, branch);
  const after = options.after ?? history[0]?.sha;
  const start = history.findIndex((c) => c.sha === after);
  if (after === undefined || start < 0) {
    throw new HubmergeError("E_USAGE", `${repo}: commit ${after ?? "(none)"} is not on branch ${branch}`);
  }
  const before = options.before ?? history[start]?.parents[0];
  const end = history.findIndex((c) => c.sha === before);
  const pushed = history.slice(start, end < 0 ? start + 1 : end).reverse();
  const commits: PushCommit[] = pushed.map((c) => ({
    id: c.sha,
    tree_id: c.tree,
    message: c.message,
    timestamp: c.committer.date,
    author: { name: c.author.name, email: c.author.email },
    ...github.diff(repo, c.parents[0], c.sha),
  }));
  return pushEvent({
    repo,
    after,
    before,
    branch,
    defaultBranch,
    commits,
    sender: options.sender,
    installationId: github.installationFor(repo),
  });
}

/** A signed `push` webhook built by `pushEventFromRepo`. */
export function pushWebhook(
  github: LocalGitHubAdmin,
  repo: string,
  options: { secret: string; branch?: string; before?: string; after?: string },
): SignedWebhook {
  return signWebhook("push", pushEventFromRepo(github, repo, options).payload, options.secret);
}

/** POSTs a signed webhook to a receiver, as GitHub's hookshot would. */
export function deliverWebhook(url: string, hook: SignedWebhook): Promise<Response> {
  return fetch(url, { method: "POST", headers: hook.headers, body: hook.body });
}
