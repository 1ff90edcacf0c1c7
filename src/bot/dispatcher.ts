/**
 * Turns source updates into `repository_dispatch` events, one per subscribing repository.
 * - Debounce: a burst of commits to one model yields one dispatch per repository, carrying the
 *   newest sha, `debounceMs` after the last webhook.
 * - Never twice for one sha: dispatched (and superseded) (repository, model, sha) triples are
 *   remembered, boundedly; a failed dispatch is forgotten so that a redelivery can retry it.
 * - Retries with backoff are the GitHub client's (octokit's retry and throttling plugins).
 */
import type { Logger } from "./log.js";
import { RecentSet } from "./recent-set.js";

export interface Dispatch {
  repo: string;
  model: string;
  sha: string;
}

export type SendDispatch = (dispatch: Dispatch) => Promise<void>;

export interface OfferResult {
  /** Repositories a dispatch is now scheduled for. */
  scheduled: string[];
  /** Repositories skipped, with why. */
  skipped: { repo: string; reason: string }[];
}

interface Pending {
  dispatch: Dispatch;
  timer: NodeJS.Timeout;
}

export class Dispatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly recent: RecentSet;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly options: {
      send: SendDispatch;
      debounceMs: number;
      recentCapacity: number;
      logger: Logger;
    },
  ) {
    this.recent = new RecentSet(options.recentCapacity);
  }

  /** Schedules a dispatch of `model@sha` to each repository, unless it was already sent or queued. */
  offer(model: string, sha: string, repos: readonly string[]): OfferResult {
    const result: OfferResult = { scheduled: [], skipped: [] };
    for (const repo of repos) {
      const key = pairKey(repo, model);
      const current = this.pending.get(key);
      if (this.closed) result.skipped.push({ repo, reason: "shutting down" });
      else if (this.recent.has(`${key}\0${sha}`)) result.skipped.push({ repo, reason: "already dispatched" });
      else if (current?.dispatch.sha === sha) result.skipped.push({ repo, reason: "already scheduled" });
      else {
        if (current !== undefined) this.supersede(key, current);
        this.schedule(key, { repo, model, sha });
        result.scheduled.push(repo);
      }
    }
    return result;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends every debounced dispatch now and waits for all sends to settle. */
  async flush(): Promise<void> {
    for (const key of [...this.pending.keys()]) this.fire(key);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Refuses new offers, then flushes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(key: string, dispatch: Dispatch): void {
    const timer = setTimeout(() => this.fire(key), this.options.debounceMs);
    this.pending.set(key, { dispatch, timer });
  }

  /** An older sha replaced by a newer one in the same burst: never dispatched, and never will be. */
  private supersede(key: string, current: Pending): void {
    clearTimeout(current.timer);
    this.recent.add(`${key}\0${current.dispatch.sha}`);
    this.options.logger.info("dispatch.superseded", { ...current.dispatch });
  }

  private fire(key: string): void {
    const entry = this.pending.get(key);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    const { dispatch } = entry;
    const seen = `${key}\0${dispatch.sha}`;
    this.recent.add(seen);
    const sending = this.send(dispatch, seen);
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  private async send(dispatch: Dispatch, seen: string): Promise<void> {
    const started = Date.now();
    try {
      await this.options.send(dispatch);
      this.options.logger.info("dispatch.sent", { ...dispatch, ms: Date.now() - started });
    } catch (error) {
      this.recent.delete(seen);
      this.options.logger.error("dispatch.failed", { ...dispatch, ms: Date.now() - started, error });
    }
  }
}

function pairKey(repo: string, model: string): string {
  return `${repo.toLowerCase()}\0${model.toLowerCase()}`;
}
