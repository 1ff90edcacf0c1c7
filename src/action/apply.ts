import * as core from "@actions/core";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import type { LockEntry } from "../lock/lockfile.js";
import {
  mergeAndPublish,
  readMergeGraph,
  runGraph,
  type BackendName,
  type MergedStep,
  type MergeEventListener,
} from "../pipeline/index.js";
import type { HubSession } from "../session.js";
import { TOOL } from "../version.js";
import type { Assessment } from "./assess.js";
import { attestationsUrl } from "./attest-subjects.js";
import { lockEntry } from "./lock-entry.js";
import { manifestSlug } from "./parts.js";
import type { ApplyResult } from "./report.js";

export interface ApplyOptions {
  session: HubSession;
  backend: BackendName;
  threads?: number;
  tempDir: string;
  signal: AbortSignal;
  /** The output shard size (the shard-size input; default 5 GB). */
  maxShardBytes?: number;
}

/** Merges and publishes one manifest; returns what happened and, on success, its new lock entry. */
export async function applyManifest(
  assessment: Assessment,
  options: ApplyOptions,
): Promise<{ result: ApplyResult; entry?: LockEntry }> {
  const file = assessment.file;
  const repo = assessment.manifest?.hubmerge.output?.repo;
  if (!repo) {
    const error = "the manifest names no hubmerge.output.repo to publish to";
    core.error(error, { file, startLine: 1 });
    return { result: { manifest: file, status: "failed", error } };
  }
  core.startGroup(`merge ${file}`);
  try {
    const graph = await readMergeGraph(file, { workspace: options.session.workspace });
    if (graph.steps.length > 1) {
      const steps = await runGraph(graph, {
        out: join(options.tempDir, manifestSlug(file)),
        force: true,
        backend: options.backend,
        threads: options.threads,
        resolver: options.session.resolver,
        lineageOf: options.session.lineageOf,
        hubUrl: options.session.hub.hubUrl,
        provenanceUrl: attestationsUrl(),
        signal: options.signal,
        onEvent: progress(file),
        publish: { hub: options.session.hub, signal: options.signal },
      });
      return graphResult(file, repo, graph.sha256, steps);
    }
    // Shards upload while later ones merge; one commit at the end names them all.
    const { merged, published } = await mergeAndPublish({
      manifest: graph.steps[0]!.read,
      maxShardBytes: options.maxShardBytes,
      out: join(options.tempDir, manifestSlug(file)),
      force: true,
      backend: options.backend,
      threads: options.threads,
      resolver: options.session.resolver,
      lineageOf: options.session.lineageOf,
      hubUrl: options.session.hub.hubUrl,
      provenanceUrl: attestationsUrl(),
      signal: options.signal,
      onEvent: progress(file),
      publish: { hub: options.session.hub, signal: options.signal },
    });
    core.info(`merged on ${merged.kernels}`);
    core.info(
      published.unchanged
        ? `${repo} already holds these exact bytes at ${published.commitSha}: no commit made`
        : `published ${published.url} at ${published.commitSha}`,
    );
    const entry = lockEntry(merged.record, repo, published.commitSha);
    return {
      result: {
        manifest: file,
        status: "published",
        repo,
        commit: published.commitSha,
        url: published.url,
        kernels: merged.kernels,
        ...(published.unchanged && { unchanged: true }),
      },
      entry,
    };
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    core.error(error.format(), { file, startLine: error.where.line, startColumn: error.where.column });
    return { result: { manifest: file, status: "failed", repo, error: error.message } };
  } finally {
    core.endGroup();
  }
}

function progress(file: string): MergeEventListener {
  return (event) => {
    if (event.type === "warning") core.warning(event.message, { file });
    if (event.type === "tensor" && (event.index === event.total || event.index % 100 === 0)) {
      core.info(`merged ${event.index}/${event.total} tensors`);
    }
  };
}

/** A multi-merge file's lock entry: its final merge, plus every intermediate and where it went. */
function graphResult(
  file: string,
  repo: string,
  fileSha256: string,
  steps: MergedStep[],
): { result: ApplyResult; entry?: LockEntry } {
  const final = steps.find(({ step }) => step.final)!;
  const published = final.published!;
  const made = new Set(
    steps.flatMap(({ step, result, published: p }) => [
      step.name,
      p && `${result.manifest.hubmerge.output!.repo}@${p.commitSha}`,
    ]),
  );
  const sources = steps.flatMap(({ result }) => result.record.sources).filter((s) => !made.has(s.ref));
  const intermediates = steps
    .filter(({ step }) => !step.final)
    .map(({ step, result, published: p }) => [
      step.name!,
      {
        repo: p ? result.manifest.hubmerge.output!.repo : null,
        commit: p?.commitSha ?? null,
        files: Object.fromEntries(result.record.files.map((f) => [f.path, f.sha256])),
      },
    ]);
  core.info(`published ${published.url} at ${published.commitSha}`);
  const entry: LockEntry = {
    manifestSha256: fileSha256,
    seed: final.result.record.seed,
    tool: `${TOOL.name}@${TOOL.version}`,
    sources: Object.fromEntries(sources.map((s) => [s.ref, s.revision])),
    output: {
      repo,
      commit: published.commitSha,
      files: Object.fromEntries(final.result.record.files.map((f) => [f.path, f.sha256])),
    },
    intermediates: Object.fromEntries(intermediates),
  };
  return {
    result: { manifest: file, status: "published", repo, commit: published.commitSha, url: published.url },
    entry,
  };
}
