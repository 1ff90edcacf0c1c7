/**
 * The options and results that the pipeline's steps hand to each other: a later step's options
 * extend an earlier one's, so that one object can be passed down the whole run.
 */
import type { LineageLookup } from "../compat/lineage.js";
import type { CompatReport } from "../compat/report.js";
import type { HubConfig } from "../hub/client/config.js";
import type { RetryOptions } from "../hub/client/retrying-fetch.js";
import type { PublishEvent } from "../hub/publish/publish.js";
import type { Manifest } from "../manifest/types.js";
import type { ChosenChatTemplate } from "../merge/chat-template.js";
import type { MergeEventListener } from "../merge/events.js";
import type { ExecuteInput } from "../merge/execute.js";
import type { BackendName } from "../merge/kernels/index.js";
import type { LoadedModel } from "../merge/loaded-model.js";
import type { MergePlan } from "../merge/plan/types.js";
import type { MergeMethod } from "../merge/types.js";
import type { RunRecord } from "../run-record.js";
import type { SourceResolver } from "../source/resolve.js";
import type { ReadManifest } from "./read.js";

export interface RunSources {
  resolver?: SourceResolver;
}

/** The manifest by path, or as `readManifest` returned it (then it is not read again). */
export type LoadRunOptions = RunSources & ({ manifestPath: string } | { manifest: ReadManifest });

export interface LoadedRun {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model the manifest names, opened (headers and configs only), by `modelKey`. */
  models: Map<string, LoadedModel>;
  /** SHA-256 of the manifest's text. */
  manifestSha256: string;
}

export interface PlanOptions {
  maxShardBytes?: number;
  /** Run the backbone compatibility check before planning (merges do). */
  check?: boolean;
  /** Merge even with blocking findings (the manifest's allow_incompatible also allows it). */
  allowIncompatible?: boolean;
  lineageOf?: LineageLookup;
  onCompatReport?: (report: CompatReport) => void;
}

export type PlanRunOptions = LoadRunOptions & PlanOptions;

export interface PlannedRun extends LoadedRun {
  plan: MergePlan;
  compat?: CompatReport;
  /** The chat template the merge writes, chosen now so that it cannot fail after merging. */
  chatTemplate?: ChosenChatTemplate;
}

export interface MergeOptions extends PlanOptions {
  out: string;
  /** Overrides the manifest's seed. */
  seed?: bigint;
  force?: boolean;
  /** Hub the card's links point at (the public Hub by default). */
  hubUrl?: string;
  /** Where the card says the build's provenance attestation is (the Action's repo), when known. */
  provenanceUrl?: string;
  /** Kernel backend and worker threads; the output bytes do not depend on either. */
  backend?: BackendName;
  threads?: number;
  /** Elements per piece of a large elementwise tensor (tests use small ones to cross boundaries). */
  pieceElements?: number;
  /** Bytes that reads from Hub sources may fetch ahead of the merge (default 1 GiB). */
  readAheadBytes?: number;
  /** Sees the run's planned reads (tests check the read-ahead budget). */
  onReads?: ExecuteInput["onReads"];
  onEvent?: MergeEventListener;
  signal?: AbortSignal;
  /** Each shard as soon as it is complete (an upload that overlaps the merge). */
  onShardClosed?: ExecuteInput["onShardClosed"];
}

export type MergeRunOptions = LoadRunOptions & MergeOptions;

export interface MergeRunResult extends PlannedRun {
  outDir: string;
  record: RunRecord;
  seconds: number;
  /** Which kernels ran, e.g. `wasm (16 threads)`: reported, never recorded in the output. */
  kernels: string;
}

export interface PublishRunOptions {
  hub: HubConfig;
  fetch?: typeof fetch;
  /** Retries of Hub requests (tests shorten the backoff). */
  retry?: RetryOptions;
  signal?: AbortSignal;
  onProgress?: (event: PublishEvent) => void;
}
