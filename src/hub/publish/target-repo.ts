/**
 * The output repository as the publisher finds it: created when missing (with the visibility the
 * manifest asks for), otherwise read at its current head — which files it has, whether its card
 * carries hubmerge's marker, and what the previous hubmerge run recorded.
 */
import { createRepo, HubApiError, modelInfo } from "@huggingface/hub";
import { CARD_MARKER } from "../../card/render-card.js";
import { HubmergeError, isHubmergeError } from "../../errors.js";
import { recordedFiles, RUN_RECORD_FILE } from "../../run-record.js";
import { HubSource } from "../../source/hub-source.js";
import type { HubConfig } from "../client/config.js";
import { HubErrorCodes } from "../client/error-codes.js";
import { toHubmergeError, type HubErrorContext } from "../client/errors.js";
import { createRetryingFetch, type RetryOptions } from "../client/retrying-fetch.js";

export interface TargetRepo {
  /** The branch head the commit will name as its parent. */
  head: string;
  files: string[];
  created: boolean;
  /** README.md carries hubmerge's card marker. */
  madeByHubmerge: boolean;
  /** Paths the previous hubmerge.json listed. */
  previousOutput: string[];
}

export interface TargetRepoOptions {
  hub: HubConfig & { token: string };
  repo: string;
  private: boolean;
  branch: string;
  fetch?: typeof fetch;
  retry?: RetryOptions;
  signal?: AbortSignal;
  warn: (message: string) => void;
}

export async function prepareTargetRepo(opts: TargetRepoOptions): Promise<TargetRepo> {
  const codes = new HubErrorCodes();
  const apiFetch = createRetryingFetch({ ...opts.retry, fetch: codes.wrap(opts.fetch) });
  const ctx = (action: string): HubErrorContext => ({
    action,
    repo: opts.repo,
    revision: opts.branch,
    hubUrl: opts.hub.hubUrl,
    token: opts.hub.token,
  });
  let created = false;
  let info = await headInfo(opts, apiFetch, codes, ctx("reading the output repo"));
  if (!info) {
    created = await createMissing(opts, apiFetch, codes, ctx("creating the output repo"));
    info = await headInfo(opts, apiFetch, codes, ctx("reading the output repo"));
    if (!info)
      throw new HubmergeError("E_HUB_NOT_FOUND", `${opts.repo} is still missing after it was created`, {
        where: { model: opts.repo },
      });
  }
  checkVisibility(opts, info.private, created);
  const source = await HubSource.resolve(
    { raw: opts.repo, kind: "hub", repo: opts.repo, revision: info.sha },
    { hub: opts.hub, fetch: opts.fetch, retry: opts.retry, signal: opts.signal },
  );
  const files = await source.listFiles();
  const readme = await source.readFile("README.md");
  const madeByHubmerge = readme !== null && new TextDecoder().decode(readme).includes(CARD_MARKER);
  const previousOutput = madeByHubmerge ? recordedFiles(await source.readFile(RUN_RECORD_FILE)) : [];
  return { head: info.sha, files, created, madeByHubmerge, previousOutput };
}

interface HeadInfo {
  sha: string;
  private: boolean;
}

/** The branch head and visibility; undefined when the repo does not exist. */
async function headInfo(
  opts: TargetRepoOptions,
  apiFetch: typeof fetch,
  codes: HubErrorCodes,
  ctx: HubErrorContext,
): Promise<HeadInfo | undefined> {
  try {
    const info = await modelInfo({
      name: opts.repo,
      revision: opts.branch,
      additionalFields: ["sha"],
      hubUrl: opts.hub.hubUrl,
      accessToken: opts.hub.token,
      fetch: apiFetch,
    });
    const sha = (info as { sha?: unknown }).sha;
    if (typeof sha !== "string" || !/^[0-9a-f]{40}$/.test(sha)) {
      throw new HubmergeError("E_NETWORK", `the Hub gave no head commit for ${opts.repo}`, {
        where: { model: opts.repo },
      });
    }
    return { sha, private: info.private };
  } catch (error) {
    const mapped = toHubmergeError(error, ctx, codes);
    const repoMissing = error instanceof HubApiError && codes.codeOf(error) !== "RevisionNotFound";
    if (isHubmergeError(mapped, "E_HUB_NOT_FOUND") && repoMissing) return undefined;
    throw mapped;
  }
}

/** Creates the repo; true when this call created it (false when someone else just did). */
async function createMissing(
  opts: TargetRepoOptions,
  apiFetch: typeof fetch,
  codes: HubErrorCodes,
  ctx: HubErrorContext,
): Promise<boolean> {
  try {
    await createRepo({
      repo: { type: "model", name: opts.repo },
      private: opts.private,
      hubUrl: opts.hub.hubUrl,
      accessToken: opts.hub.token,
      fetch: apiFetch,
    });
    return true;
  } catch (error) {
    // 409: it exists after all (another publish won the race); read it like any existing repo.
    if (error instanceof HubApiError && error.statusCode === 409) return false;
    throw toHubmergeError(error, ctx, codes);
  }
}

function checkVisibility(opts: TargetRepoOptions, isPrivate: boolean, created: boolean): void {
  if (created || isPrivate === opts.private) return;
  if (opts.private) {
    throw new HubmergeError(
      "E_HUB_CONFLICT",
      `the output repo ${opts.repo} is public, but the manifest asks for a private one`,
      {
        where: { model: opts.repo },
        hint: "make the repo private in its settings on the Hub, or set hubmerge.output.private: false",
      },
    );
  }
  opts.warn(`the output repo ${opts.repo} is private; it stays private (the manifest asks for a public one)`);
}
