/**
 * Publishes a finished output folder to a Hub model repo as ONE commit whose parent is the head
 * read before uploading: either the whole model lands on exactly that state, or nothing does.
 * LFS uploads are retried (they are content-addressed); the commit POST is not retried blindly:
 * when its answer is lost, the publisher looks for its own commit (a unique id in the message)
 * and re-sends only when the branch is still at the parent, which `parentCommit` makes safe.
 */
import { commitIter, HubApiError, type CommitOperation, type CommitOutput } from "@huggingface/hub";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { HubmergeError } from "../../errors.js";
import { repoIdProblem } from "../../model-ref.js";
import { findLandedCommit, publishIdTrailer, type CommitLookup } from "./commit-landed.js";
import type { HubConfig } from "../client/config.js";
import { HubErrorCodes } from "../client/error-codes.js";
import { isAbortError, redactToken, toHubmergeError, type HubErrorContext } from "../client/errors.js";
import { assertNoTokenInFiles, listOutputFiles, staleFiles } from "./output-files.js";
import { createRetryingFetch, type RetryInfo, type RetryOptions } from "../client/retrying-fetch.js";
import { matchesRemote } from "./unchanged-output.js";
import { prepareTargetRepo, type TargetRepo } from "./target-repo.js";

export interface PublishOptions {
  hub: HubConfig;
  /** `owner/name`. */
  repo: string;
  /** A finished local output folder (shards, index, config, tokenizer, README.md, hubmerge.json). */
  dir: string;
  /** Visibility when the repo is created. */
  private: boolean;
  /** Replace a repo whose card lacks hubmerge's marker. */
  overwrite: boolean;
  commitTitle: string;
  commitDescription?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  retry?: RetryOptions;
  onProgress?: (event: PublishEvent) => void;
}

export type PublishEvent =
  | {
      event: "phase";
      phase: "inspecting" | "preuploading" | "uploadingLargeFiles" | "committing" | "verifying";
    }
  | { event: "fileProgress"; path: string; progress: number; state: "hashing" | "uploading" | "error" }
  | { event: "retry"; info: RetryInfo }
  | { event: "warning"; message: string };

export interface PublishResult {
  commitSha: string;
  /** The repo's page. */
  url: string;
  created: boolean;
  /** Files of the previous output that the commit deleted. */
  deleted: string[];
  /** The repo already held exactly these bytes: no commit was made, `commitSha` is its head. */
  unchanged?: true;
}

const BRANCH = "main";
/** Sends of the commit at most; a re-send only happens when the previous one provably did not land. */
const COMMIT_SENDS = 3;

export async function publishFolder(opts: PublishOptions): Promise<PublishResult> {
  const token = requireWriteToken(opts);
  const hub = { hubUrl: opts.hub.hubUrl, token };
  const emit = opts.onProgress ?? (() => undefined);
  const retry: RetryOptions = {
    ...opts.retry,
    onRetry: (info) => {
      opts.retry?.onRetry?.(info);
      emit({ event: "retry", info });
    },
  };
  const files = await listOutputFiles(opts.dir);
  await assertNoTokenInFiles(files, token);
  emit({ event: "phase", phase: "inspecting" });
  const target = await prepareTargetRepo({
    hub,
    repo: opts.repo,
    private: opts.private,
    branch: BRANCH,
    fetch: opts.fetch,
    retry,
    signal: opts.signal,
    warn: (message) => emit({ event: "warning", message }),
  });
  refuseForeignRepo(opts, target);
  const produced = new Set(files.map((f) => f.path));
  const deleted = staleFiles(target.files, produced, target.previousOutput);
  const url = `${opts.hub.hubUrl}/${opts.repo}`;
  if (deleted.length === 0 && !target.created && (await matchesRemote(opts.dir, files, target.refs))) {
    return { commitSha: target.head, url, created: false, deleted, unchanged: true };
  }
  const operations: CommitOperation[] = [
    ...files.map((f): CommitOperation => ({
      operation: "addOrUpdate",
      path: f.path,
      content: pathToFileURL(f.absolutePath),
    })),
    ...deleted.map((path): CommitOperation => ({ operation: "delete", path })),
  ];
  const send: CommitSender = (fetch, description, attempt) =>
    sendCommit(opts, hub, fetch, target.head, description, operations, emit, attempt);
  const commitSha = await commitChecked(opts, hub, retry, target.head, send, emit);
  return { commitSha, url, created: target.created, deleted };
}

export function requireWriteToken(
  opts: Pick<PublishOptions, "repo" | "hub" | "commitTitle" | "commitDescription">,
): string {
  const problem = repoIdProblem(opts.repo, true);
  if (problem !== undefined) {
    throw new HubmergeError(
      "E_USAGE",
      `the output repo ${JSON.stringify(opts.repo)} is not a Hub repo id: it ${problem}`,
      {
        hint: "set hubmerge.output.repo to owner/name",
      },
    );
  }
  if (!opts.hub.token) {
    throw new HubmergeError(
      "E_HUB_AUTH",
      `publishing to ${opts.repo} needs an access token with write access`,
      {
        where: { model: opts.repo },
        hint: "set HF_TOKEN or pass --token (a write token of the repo's owner or org)",
      },
    );
  }
  const secret = opts.hub.token;
  if (opts.commitTitle.includes(secret) || opts.commitDescription?.includes(secret)) {
    throw new HubmergeError("E_USAGE", "refusing to publish: the commit message contains the access token");
  }
  return secret;
}

/** A repo with content that hubmerge did not write is replaced only when the manifest says so. */
export function refuseForeignRepo(
  opts: Pick<PublishOptions, "repo" | "overwrite">,
  target: TargetRepo,
): void {
  const hasContent = target.files.some((path) => path !== ".gitattributes");
  if (target.created || target.madeByHubmerge || !hasContent || opts.overwrite) return;
  throw new HubmergeError(
    "E_HUB_CONFLICT",
    `the output repo ${opts.repo} has files that hubmerge did not write (its README has no hubmerge card)`,
    {
      where: { model: opts.repo },
      hint: "choose another hubmerge.output.repo, or set hubmerge.output.overwrite: true to replace its model files",
    },
  );
}

type Emit = (event: PublishEvent) => void;

/** One send of the commit (with the description that carries the publish id); returns its sha. */
export type CommitSender = (
  fetch: typeof globalThis.fetch,
  description: string,
  attempt: { reachedCommit: boolean },
) => Promise<string>;

/** Sends the commit; after a lost answer or a conflict, finds out whether it landed (see top). */
export async function commitChecked(
  opts: Pick<PublishOptions, "repo" | "commitDescription" | "fetch" | "signal">,
  hub: { hubUrl: string; token: string },
  retry: RetryOptions,
  parentCommit: string,
  sendOnce: CommitSender,
  emit: Emit,
): Promise<string> {
  const codes = new HubErrorCodes();
  const fetch = createRetryingFetch({ ...retry, fetch: codes.wrap(opts.fetch) });
  const publishId = randomUUID();
  const description = [opts.commitDescription?.trim(), publishIdTrailer(publishId)]
    .filter(Boolean)
    .join("\n\n");
  const ctx: HubErrorContext = {
    action: "publishing",
    repo: opts.repo,
    revision: BRANCH,
    hubUrl: hub.hubUrl,
    token: hub.token,
  };
  const lookup: CommitLookup = {
    repo: opts.repo,
    branch: BRANCH,
    hubUrl: hub.hubUrl,
    accessToken: hub.token,
    fetch,
  };
  for (let send = 1; ; send++) {
    const attempt = { reachedCommit: false };
    try {
      return await sendOnce(fetch, description, attempt);
    } catch (error) {
      if (opts.signal?.aborted || isAbortError(error)) throw error;
      const conflict = error instanceof HubApiError && (error.statusCode === 412 || error.statusCode === 409);
      const ambiguous = attempt.reachedCommit && !conflict && isLostAnswer(error);
      if (!conflict && !ambiguous) throw toHubmergeError(error, ctx, codes);
      emit({ event: "phase", phase: "verifying" });
      const state = await findLandedCommit(lookup, publishId, parentCommit).catch((e: unknown) => {
        throw toHubmergeError(e, { ...ctx, action: "checking whether the commit landed" }, codes);
      });
      if (state.landed) return state.landed;
      if (conflict || state.head !== parentCommit) throw conflictError(opts.repo, parentCommit, state.head);
      if (send >= COMMIT_SENDS) throw lostCommitError(opts.repo, error, hub.token);
    }
  }
}

async function sendCommit(
  opts: PublishOptions,
  hub: { hubUrl: string; token: string },
  fetch: typeof globalThis.fetch,
  parentCommit: string,
  description: string,
  operations: CommitOperation[],
  emit: Emit,
  attempt: { reachedCommit: boolean },
): Promise<string> {
  const steps = commitIter({
    repo: { type: "model", name: opts.repo },
    branch: BRANCH,
    title: opts.commitTitle,
    description,
    operations,
    parentCommit,
    useXet: false,
    hubUrl: hub.hubUrl,
    accessToken: hub.token,
    fetch,
    abortSignal: opts.signal,
  });
  let step = await steps.next();
  while (!step.done) {
    if (step.value.event === "phase" && step.value.phase === "committing") attempt.reachedCommit = true;
    emit(step.value);
    step = await steps.next();
  }
  const output: CommitOutput | undefined = step.value;
  if (!output?.commit.oid)
    throw new HubmergeError("E_NETWORK", `the Hub did not say which commit it made on ${opts.repo}`);
  return output.commit.oid;
}

/** An answer that may hide a commit which landed: no answer at all, or a server-side failure. */
function isLostAnswer(error: unknown): boolean {
  if (error instanceof HubApiError)
    return error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;
  return !(error instanceof HubmergeError);
}

function conflictError(repo: string, parentCommit: string, head: string | undefined): HubmergeError {
  const now = head ? ` (the branch is now at ${head.slice(0, 12)})` : "";
  return new HubmergeError(
    "E_HUB_CONFLICT",
    `another commit landed on ${repo} since ${parentCommit.slice(0, 12)} was read${now}; nothing was published (parentCommit conflict)`,
    { where: { model: repo }, hint: "re-run to merge and publish on top of it" },
  );
}

function lostCommitError(repo: string, error: unknown, token: string): HubmergeError {
  const text = error instanceof Error ? error.message : String(error);
  return new HubmergeError(
    "E_NETWORK",
    redactToken(`the commit to ${repo} kept failing (${text}); nothing was published`, token),
    {
      where: { model: repo },
      hint: "the Hub is unreachable or failing: try again later (the uploaded files are kept, so a re-run is quick)",
    },
  );
}
