/** The resolver a run uses: local folders as they are, Hub references pinned through HubSource. */
import { PUBLIC_HUB, type HubConfig } from "../hub/client/config.js";
import type { RetryOptions } from "../hub/client/retrying-fetch.js";
import { ConnectionBudget } from "./connection-budget.js";
import { HubSource } from "./hub-source.js";
import { localSourceOpener, type SourceResolver } from "./resolve.js";

export interface SourceResolverOptions {
  /** The Hub and token; the public Hub, anonymously, when omitted. */
  hub?: HubConfig;
  fetch?: typeof fetch;
  cacheDir?: string;
  retry?: RetryOptions;
  /** Range requests in flight across all of the run's Hub sources (default 16). */
  connections?: number;
  /** Smallest part a read is split into (default 1 MiB; tests use small ones). */
  minPartBytes?: number;
  signal?: AbortSignal;
  /** Local models must resolve (realpath, following symlinks) inside this folder. */
  workspace?: string;
}

export function createSourceResolver(options: SourceResolverOptions = {}): SourceResolver {
  const hub = options.hub ?? PUBLIC_HUB;
  const openLocal = localSourceOpener(options.workspace);
  // One budget for every source: `--connections` bounds the run, not each model.
  const connections = new ConnectionBudget(options.connections);
  return async (ref) => {
    if (ref.kind === "local" && ref.path !== undefined) return openLocal({ ...ref, path: ref.path });
    return HubSource.resolve(ref, {
      hub,
      fetch: options.fetch,
      cacheDir: options.cacheDir,
      retry: options.retry,
      connections,
      minPartBytes: options.minPartBytes,
      signal: options.signal,
    });
  };
}
