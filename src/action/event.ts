import { SOURCE_UPDATED_EVENT } from "../dispatch-event.js";
import { HubmergeError } from "../errors.js";
import type { Mode } from "./inputs.js";

export interface RunEvent {
  name: string;
  payload: Record<string, unknown>;
  /** `refs/heads/<branch>` for push (GITHUB_REF). */
  ref?: string;
}

/** What this run will do, decided from the event and the `mode` input. */
export interface RunIntent {
  mode: "plan" | "apply";
  /** The pull request to comment on, in plan mode. */
  pullRequest?: number;
  /** A model the event says changed (repository_dispatch): narrows what is re-checked. */
  changedModel?: { model: string; sha?: string };
}

/**
 * The only events apply runs on: each is started by someone with write access to the default
 * branch (push to it, its schedule, a manual or API dispatch). An allow-list, so that an event
 * GitHub adds later, or one a reviewer or contributor can start (pull_request_review, issue_comment,
 * workflow_run, …), never reaches the Hub token.
 */
const APPLY_EVENTS = new Set(["push", "schedule", "workflow_dispatch", "repository_dispatch"]);

export function decideIntent(mode: Exclude<Mode, "publish">, event: RunEvent): RunIntent {
  const refusal = applyRefusal(event);
  const effective = mode === "auto" ? (refusal === undefined ? "apply" : "plan") : mode;
  if (effective === "apply" && refusal !== undefined) {
    throw new HubmergeError("E_USAGE", `apply refuses to run on ${refusal}`, {
      hint:
        "apply holds the Hub token, so it runs only on push to the default branch, schedule, workflow_dispatch " +
        "and repository_dispatch: run `mode: plan` on pull requests (no secrets needed) and `mode: apply` there",
    });
  }
  const intent: RunIntent = { mode: effective };
  if (effective === "plan") {
    const number = (event.payload["pull_request"] as { number?: unknown } | undefined)?.number;
    if (typeof number === "number") intent.pullRequest = number;
  }
  if (event.name === "repository_dispatch") intent.changedModel = dispatchedModel(event.payload);
  return intent;
}

/** Why apply may not run on this event, or undefined when it may. */
function applyRefusal(event: RunEvent): string | undefined {
  if (!APPLY_EVENTS.has(event.name)) return `${event.name} events`;
  if (event.name !== "push") return undefined;
  const repository = event.payload["repository"] as { default_branch?: unknown } | undefined;
  const defaultBranch = repository?.default_branch;
  const ref = typeof event.payload["ref"] === "string" ? event.payload["ref"] : event.ref;
  if (typeof defaultBranch !== "string" || ref !== `refs/heads/${defaultBranch}`) {
    return `a push to ${ref ?? "an unknown ref"} (only pushes to the default branch apply)`;
  }
  return undefined;
}

/** repository_dispatch payloads are untrusted: only a well-formed model id is taken from them. */
function dispatchedModel(payload: Record<string, unknown>): { model: string; sha?: string } | undefined {
  if (payload["action"] !== SOURCE_UPDATED_EVENT) return undefined;
  const client = payload["client_payload"] as Record<string, unknown> | undefined;
  const model = client?.["model"];
  const sha = client?.["sha"];
  if (typeof model !== "string" || !/^[\w.-]{1,96}\/[\w.-]{1,96}$/.test(model)) {
    throw new HubmergeError("E_USAGE", "the repository_dispatch payload names no valid model", {
      hint: 'send client_payload {"model": "org/name", "sha": "<commit>"}',
    });
  }
  return typeof sha === "string" && /^[0-9a-f]{40}$/.test(sha) ? { model, sha } : { model };
}
