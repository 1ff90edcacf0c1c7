/**
 * Keeps the subscription index current: every repository at start, all of them again on a
 * schedule, and one on demand (a verified `push` webhook). Every read takes the branch head as
 * GitHub has it at that moment, never a commit named by a webhook, and the reads of one
 * repository run one after another: a later read always sees a newer or the same head. A
 * request that finds a read of its repository queued and not yet started joins it.
 */
import type { WatchedRepo } from "./config.js";
import type { GitHubAccess } from "./github-access.js";
import type { Logger } from "./log.js";
import { readRepoManifests } from "./manifest-reader.js";
import type { SubscriptionIndex } from "./subscriptions.js";

/** A repository never read successfully is retried this soon, not at the next scheduled refresh. */
const FIRST_READ_RETRY_MS = 60_000;

export class IndexRefresher {
  private readonly chains = new Map<string, Promise<void>>();
  /** Reads queued behind a running one, by repository: later requests join them. */
  private readonly queued = new Map<string, { branch: string | undefined; read: Promise<void> }>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly aborter = new AbortController();
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(
    private readonly index: SubscriptionIndex,
    private readonly access: GitHubAccess,
    private readonly repos: readonly WatchedRepo[],
    private readonly logger: Logger,
  ) {}

  /** The configured entry for `repo` (names compare case-insensitively), if it is served. */
  watched(repo: string): WatchedRepo | undefined {
    const wanted = repo.toLowerCase();
    return this.repos.find((r) => r.repo.toLowerCase() === wanted);
  }

  /** Re-reads one repository's manifests at the head of `branch` (default: the default branch). Never throws. */
  refresh(repo: WatchedRepo, branch?: string): Promise<void> {
    if (this.aborter.signal.aborted) return Promise.resolve();
    const key = repo.repo.toLowerCase();
    const waiting = this.queued.get(key);
    if (waiting !== undefined && waiting.branch === branch) return waiting.read;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => {
      if (this.queued.get(key)?.read === next) this.queued.delete(key);
      return this.read(repo, branch);
    });
    this.queued.set(key, { branch, read: next });
    this.chains.set(key, next);
    this.inFlight.add(next);
    void next.finally(() => {
      this.inFlight.delete(next);
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  refreshAll(): Promise<void> {
    return Promise.all(this.repos.map((repo) => this.refresh(repo))).then(() => undefined);
  }

  /** Re-reads everything every `intervalMs` (0: never). */
  start(intervalMs: number): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.refreshAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the schedule and abandons running reads (shutdown: the index dies with the process). */
  close(): void {
    this.stop();
    for (const retry of this.retries) clearTimeout(retry);
    this.retries.clear();
    this.aborter.abort();
  }

  /** Resolves once no refresh is running. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private retryLater(repo: WatchedRepo): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      void this.refresh(repo);
    }, FIRST_READ_RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  private async read(repo: WatchedRepo, branch: string | undefined): Promise<void> {
    const started = Date.now();
    try {
      const client = await this.access.clientFor(repo.repo);
      const result = await readRepoManifests(client, repo.repo, repo.manifests, branch, this.aborter.signal);
      for (const manifest of result.manifests) {
        if (manifest.error !== undefined) {
          this.logger.warn("manifest.invalid", {
            repo: repo.repo,
            path: manifest.path,
            error: manifest.error,
          });
        }
      }
      if (result.truncated) this.logger.warn("index.tree_truncated", { repo: repo.repo, ref: result.ref });
      const models = result.manifests.flatMap((m) => m.models);
      this.index.replace(repo.repo, models, result.ref);
      this.logger.info("index.refreshed", {
        repo: repo.repo,
        ref: result.ref,
        manifests: result.manifests.length,
        models: this.index.get(repo.repo)?.models ?? [],
        ms: Date.now() - started,
      });
    } catch (error) {
      if (this.aborter.signal.aborted) return;
      // Keep what the index knew: a GitHub outage should not unsubscribe anyone.
      const known = this.index.get(repo.repo) !== undefined;
      this.logger.error("index.refresh_failed", {
        repo: repo.repo,
        branch: branch ?? "(default branch)",
        error,
        ...(known ? {} : { retryInSeconds: FIRST_READ_RETRY_MS / 1000 }),
      });
      if (!known) this.retryLater(repo);
    }
  }
}
