/**
 * Hub failures as HubmergeErrors: the status and the Hub's `X-Error-Code` decide the code
 * (E_HUB_AUTH, E_HUB_NOT_FOUND, E_NETWORK); the message names the model and what was being done;
 * the hint says how to fix it. No message ever contains the access token.
 */
import { HubApiError } from "@huggingface/hub";
import { HubmergeError, isHubmergeError } from "../../errors.js";
import type { HubErrorCodes } from "./error-codes.js";

export interface HubErrorContext {
  /** What was being done, as a phrase: `reading config.json`, `publishing`. */
  action: string;
  /** Hub repo id (`org/name`). */
  repo: string;
  /** The model reference as the manifest wrote it (the error's `where.model`); default `repo`. */
  model?: string;
  revision?: string;
  path?: string;
  hubUrl: string;
  /** The token in use: redacted from every message, and its absence shapes the hints. */
  token?: string;
}

export interface HubFailure {
  status: number;
  /** The `X-Error-Code` header: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo. */
  errorCode?: string;
  /** The server's own message (`{"error": …}`), if any. */
  serverMessage?: string;
}

export const GATED_HINT = "accept the license on the model page and use a token with read access";

type HubErrorCode = "E_HUB_AUTH" | "E_HUB_NOT_FOUND" | "E_NETWORK";
type Described = [code: HubErrorCode, message: string, hint: string];

/** A failed HTTP answer from the Hub. */
export function hubFailureError(failure: HubFailure, ctx: HubErrorContext): HubmergeError {
  const [code, message, hint] = describeMissing(failure, ctx) ?? describeStatus(failure, ctx);
  return new HubmergeError(code, redactToken(message, ctx.token), {
    where: { model: ctx.model ?? ctx.repo },
    hint: redactToken(hint, ctx.token),
  });
}

/** Gated, or a missing repo / revision / file: what the Hub's X-Error-Code (or a 404) says. */
function describeMissing({ status, errorCode }: HubFailure, ctx: HubErrorContext): Described | undefined {
  if (errorCode === "GatedRepo") {
    const who = ctx.token ? "the token's user has not been granted access" : "no token was given";
    const page = `${ctx.hubUrl}/${ctx.repo}`;
    return [
      "E_HUB_AUTH",
      `${ctx.repo} is a gated model and ${who} (${ctx.action})`,
      `${GATED_HINT}: ${page}`,
    ];
  }
  if (errorCode === "RepoNotFound" || (status === 404 && !errorCode && !ctx.path)) {
    const maybe = ctx.token
      ? "or it is private and the token's user cannot see it"
      : "or it is private and no token was given";
    return [
      "E_HUB_NOT_FOUND",
      `model repo ${ctx.repo} was not found on ${ctx.hubUrl} (${maybe}) while ${ctx.action}`,
      ctx.token
        ? "check the repo id in the manifest, and that the token belongs to a user who can read it"
        : "check the repo id in the manifest; for a private repo set HF_TOKEN or pass --token",
    ];
  }
  if (errorCode === "RevisionNotFound") {
    return [
      "E_HUB_NOT_FOUND",
      `revision ${ctx.revision ?? "(default branch)"} does not exist in ${ctx.repo} (${ctx.action})`,
      "pin an existing branch, tag or full commit sha after `@` (see the repo's commit history)",
    ];
  }
  if (errorCode === "EntryNotFound" || status === 404) {
    const at = ctx.revision ? ` at ${ctx.revision}` : "";
    return [
      "E_HUB_NOT_FOUND",
      `${ctx.path ?? "a file"} does not exist in ${ctx.repo}${at} (${ctx.action})`,
      "check the file name, or pin a revision that has it",
    ];
  }
  return undefined;
}

/** Authentication, refusal, a busy Hub, or anything else, by status. */
function describeStatus({ status, serverMessage }: HubFailure, ctx: HubErrorContext): Described {
  const said = serverMessage ? `: ${clip(serverMessage)}` : "";
  if (status === 401 && ctx.token) {
    return [
      "E_HUB_AUTH",
      `the Hub rejected the access token while ${ctx.action} for ${ctx.repo}${said}`,
      `check that the token is valid and not expired (${ctx.hubUrl}/settings/tokens)`,
    ];
  }
  if (status === 401) {
    return [
      "E_HUB_AUTH",
      `the Hub wants a token for ${ctx.action} on ${ctx.repo}${said}`,
      "set HF_TOKEN or pass --token",
    ];
  }
  if (status === 403) {
    return [
      "E_HUB_AUTH",
      `the Hub refused ${ctx.action} on ${ctx.repo} (403)${said}`,
      "use a token whose user may do this (a write token of the repo's owner or org to publish)",
    ];
  }
  const busy = status === 429 || status === 408 || status >= 500;
  return [
    "E_NETWORK",
    `the Hub answered ${status} while ${ctx.action} for ${ctx.repo}${busy ? " (after retries)" : ""}${said}`,
    busy
      ? "the Hub is busy or failing: try again in a few minutes"
      : "this looks like a protocol mismatch: check --hub-url / HF_ENDPOINT",
  ];
}

/**
 * Any error from a Hub call — a HubApiError, a network failure, a HubmergeError from deeper
 * down — as a HubmergeError with the context filled in. Aborts pass through unchanged.
 */
export function toHubmergeError(error: unknown, ctx: HubErrorContext, codes?: HubErrorCodes): unknown {
  if (isAbortError(error)) return error;
  if (isHubmergeError(error)) return redacted(error, ctx.token);
  if (error instanceof HubApiError) {
    return hubFailureError(
      {
        status: error.statusCode,
        errorCode: codes?.codeOf(error),
        serverMessage: stripTrailer(error.message),
      },
      ctx,
    );
  }
  const text = error instanceof Error ? errorText(error) : String(error);
  if (/access token must start with 'hf_'/.test(text)) {
    return new HubmergeError("E_HUB_AUTH", "the access token is not a Hugging Face token", {
      where: { model: ctx.model ?? ctx.repo },
      hint: "use a User Access Token (it starts with hf_)",
    });
  }
  return new HubmergeError(
    "E_NETWORK",
    redactToken(
      `cannot talk to the Hub at ${ctx.hubUrl} while ${ctx.action} for ${ctx.repo}: ${text}`,
      ctx.token,
    ),
    {
      where: { model: ctx.model ?? ctx.repo },
      hint: "check the network and --hub-url / HF_ENDPOINT; transient failures were already retried",
    },
  );
}

/** Replaces every occurrence of the token (and any other `hf_…` secret-looking word) with `hf_***`. */
export function redactToken(text: string, token: string | undefined): string {
  let out = token ? text.split(token).join("hf_***") : text;
  out = out.replace(/\bBearer\s+\S+/gi, "Bearer ***");
  return out;
}

function redacted(error: HubmergeError, token: string | undefined): HubmergeError {
  if (!token || (!error.message.includes(token) && !(error.hint ?? "").includes(token))) return error;
  return new HubmergeError(error.code, redactToken(error.message, token), {
    hint: error.hint === undefined ? undefined : redactToken(error.hint, token),
    where: error.where,
  });
}

/** HubApiError messages end with `. URL: … . Request ID: …`; the context already says where. */
function stripTrailer(message: string): string {
  return message.replace(/\.\s*URL: .*$/s, "").trim();
}

function clip(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function errorText(error: Error): string {
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}
