import { lineageFromCards } from "./compat/card-lineage.js";
import type { LineageLookup } from "./compat/lineage.js";
import type { HubConfig } from "./hub/client/config.js";
import type { RetryOptions } from "./hub/client/retrying-fetch.js";
import type { ModelRef } from "./model-ref.js";
import { HubSource } from "./source/hub-source.js";
import { createSourceResolver } from "./source/hub-resolver.js";
import type { SourceResolver } from "./source/resolve.js";

export interface HubSessionOptions {
  cacheDir?: string;
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Range requests in flight across the run's Hub sources (default 16). */
  connections?: number;
  signal?: AbortSignal;
  /** Local models must resolve (realpath, following symlinks) inside this folder; the Action sets it. */
  workspace?: string;
}

/** Everything a run needs from one Hub: how to open sources and how to follow their lineage. */
export interface HubSession {
  hub: HubConfig;
  resolver: SourceResolver;
  lineageOf: LineageLookup;
  /** Local models (and, in the Action, manifests) must resolve inside this folder, when set. */
  workspace?: string;
}

/** The commit a Hub reference resolves to now: one light request, no file is read. */
export function resolveRevision(ref: ModelRef, options: { hub: HubConfig }): Promise<string> {
  return HubSource.resolveRevision(ref, options);
}

export function hubSession(hub: HubConfig, options: HubSessionOptions = {}): HubSession {
  const resolver = createSourceResolver({ hub, ...options });
  // A card that cannot be read (a deleted or private ancestor) ends the chain rather than the run.
  const readCard = async (repo: string) => {
    try {
      const source = await HubSource.resolve({ raw: repo, kind: "hub", repo }, { hub, ...options });
      return await source.cardData();
    } catch {
      return undefined;
    }
  };
  return { hub, resolver, lineageOf: lineageFromCards(readCard), workspace: options.workspace };
}
