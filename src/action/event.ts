import { SOURCE_UPDATED_EVENT } from "../dispatch-event.js";
import { HubmergeError } from "../errors.js";
import type { Mode } from "./inputs.js";

export interface RunEvent {
  name: string;
  payload: Record<string, unknown>;
}

/** What this run will do, decided from the event and the `mode` input. */
export interface RunIntent {
  mode: "plan" | "apply";
  /** The pull request to comment on, in plan mode. */
  pullRequest?: number;
  /** A model the event says changed (repository_dispatch): narrows what is re-checked. */
  changedModel?: { model: string; sha?: string };
}

const PULL_REQUEST_EVENTS = new Set(["pull_request", "pull_request_target"]);

export function decideIntent(mode: Mode, event: RunEvent): RunIntent {
  const isPullRequest = PULL_REQUEST_EVENTS.has(event.name);
  const effective = mode === "auto" ? (isPullRequest ? "plan" : "apply") : mode;
  if (effective === "apply" && isPullRequest) {
    throw new HubmergeError("E_USAGE", `apply refuses to run on ${event.name} events`, {
      hint:
        "a pull request may change what runs, and apply holds the Hub token: run `mode: plan` on pull_request " +
        "(no secrets needed) and `mode: apply` on push to the default branch, schedule or workflow_dispatch",
    });
  }
  const intent: RunIntent = { mode: effective };
  if (effective === "plan" && isPullRequest) {
    const number = (event.payload["pull_request"] as { number?: unknown } | undefined)?.number;
    if (typeof number === "number") intent.pullRequest = number;
  }
  if (event.name === "repository_dispatch") intent.changedModel = dispatchedModel(event.payload);
  return intent;
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
