import * as core from "@actions/core";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import type { LockEntry } from "../lock/lockfile.js";
import { mergeAndPublish, type BackendName } from "../pipeline.js";
import type { HubSession } from "../session.js";
import { TOOL } from "../version.js";
import type { Assessment } from "./assess.js";
import { attestationsUrl } from "./attest-subjects.js";
import type { ApplyResult } from "./report.js";

export interface ApplyOptions {
  session: HubSession;
  backend: BackendName;
  threads?: number;
  tempDir: string;
  signal: AbortSignal;
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
    // Shards upload while later ones merge; one commit at the end names them all.
    const { merged, published } = await mergeAndPublish({
      manifestPath: file,
      out: join(options.tempDir, createHash("sha256").update(file).digest("hex").slice(0, 16)),
      force: true,
      backend: options.backend,
      threads: options.threads,
      resolver: options.session.resolver,
      lineageOf: options.session.lineageOf,
      hubUrl: options.session.hub.hubUrl,
      provenanceUrl: attestationsUrl(),
      signal: options.signal,
      onEvent: (event) => {
        if (event.type === "warning") core.warning(event.message, { file });
        if (event.type === "tensor" && (event.index === event.total || event.index % 100 === 0)) {
          core.info(`merged ${event.index}/${event.total} tensors`);
        }
      },
      publish: { hub: options.session.hub, signal: options.signal },
    });
    core.info(`merged on ${merged.kernels}`);
    core.info(
      published.unchanged
        ? `${repo} already holds these exact bytes at ${published.commitSha}: no commit made`
        : `published ${published.url} at ${published.commitSha}`,
    );
    const entry: LockEntry = {
      manifestSha256: merged.record.manifest.sha256,
      seed: merged.record.seed,
      tool: `${TOOL.name}@${TOOL.version}`,
      sources: Object.fromEntries(merged.record.sources.map((s) => [s.ref, s.revision])),
      output: {
        repo,
        commit: published.commitSha,
        files: Object.fromEntries(merged.record.files.map((f) => [f.path, f.sha256])),
      },
    };
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
