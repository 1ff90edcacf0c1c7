/**
 * The Action's side of a split merge (docs/parts.md): a matrix job merges one part and uploads
 * its shards without a commit, and leaves its receipt in a folder the workflow uploads as an
 * artifact; the publish job assembles each manifest's receipts into one commit.
 */
import * as core from "@actions/core";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import type { LockEntry } from "../lock/lockfile.js";
import {
  assembleParts,
  parsePartSpec,
  readMergeGraph,
  readPins,
  receiptFileName,
  runPart,
  type BackendName,
} from "../pipeline/index.js";
import type { HubSession } from "../session.js";
import type { Assessment } from "./assess.js";
import { attestationsUrl } from "./attest-subjects.js";
import { lockEntry } from "./lock-entry.js";
import type { ApplyResult } from "./report.js";

/** The folder, under the receipts or parts folder, that holds one manifest's receipts. */
export function manifestSlug(file: string): string {
  return createHash("sha256").update(file).digest("hex").slice(0, 16);
}

export interface PartApplyOptions {
  session: HubSession;
  backend: BackendName;
  threads?: number;
  tempDir: string;
  signal: AbortSignal;
  /** `I/N`, from the matrix. */
  part: string;
  /** The pins JSON from the matrix. */
  pins: string;
  /** Where the receipt is copied, in `<slug>/`, for actions/upload-artifact. */
  receiptsDir: string;
  /** The output shard size (the shard-size input, as the plan job had it). */
  maxShardBytes?: number;
}

/** Merges one part of a manifest and uploads its shards (no commit); copies its receipt out. */
export async function applyPart(assessment: Assessment, options: PartApplyOptions): Promise<ApplyResult> {
  const file = assessment.file;
  const repo = assessment.manifest?.hubmerge.output?.repo;
  core.startGroup(`merge ${file}, part ${options.part}`);
  try {
    const part = parsePartSpec(options.part);
    const pins = await pinsFromInput(options.pins, options.tempDir);
    const graph = await readMergeGraph(file, { workspace: options.session.workspace });
    if (graph.steps.length > 1) {
      throw new HubmergeError("E_USAGE", "a mergekit-multi file cannot be split into parts", {
        where: { file },
        hint: "remove hubmerge: {parts} from it; each of its merges runs in one job",
      });
    }
    const { receipt, outDir, uploads } = await runPart({
      manifest: graph.steps[0]!.read,
      out: join(options.tempDir, `${manifestSlug(file)}-part-${part.index}`),
      force: true,
      part,
      pins,
      backend: options.backend,
      threads: options.threads,
      maxShardBytes: options.maxShardBytes,
      resolver: options.session.resolver,
      lineageOf: options.session.lineageOf,
      hubUrl: options.session.hub.hubUrl,
      provenanceUrl: attestationsUrl(),
      signal: options.signal,
      publish: { hub: options.session.hub, signal: options.signal },
    });
    const into = join(options.receiptsDir, manifestSlug(file));
    await mkdir(into, { recursive: true });
    await copyFile(join(outDir, receiptFileName(part)), join(into, receiptFileName(part)));
    core.info(
      `part ${options.part}: ${receipt.shards.length} shard(s) on the Hub ` +
        `(${uploads?.uploaded ?? 0} sent, ${uploads?.present ?? 0} already there); the publish job commits them`,
    );
    return { manifest: file, status: "uploaded", repo, part: options.part };
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    core.error(error.format(), { file, startLine: error.where.line, startColumn: error.where.column });
    return { manifest: file, status: "failed", repo, part: options.part, error: error.message };
  } finally {
    core.endGroup();
  }
}

/** The pins travel in the matrix as JSON; they are checked as a pins file is. */
async function pinsFromInput(text: string, tempDir: string) {
  await mkdir(tempDir, { recursive: true });
  const dir = await mkdtemp(join(tempDir, "pins-"));
  try {
    await writeFile(join(dir, "pins.json"), text);
    return await readPins(join(dir, "pins.json"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PublishPartsOptions {
  session: HubSession;
  signal: AbortSignal;
  /** Where the workflow downloaded the receipts (actions/download-artifact, merge-multiple). */
  partsDir: string;
}

/**
 * Assembles one manifest's parts into one commit and returns its lock entry. A manifest with no
 * receipts ran whole in its matrix job, which published and locked it: nothing to do here.
 */
export async function publishParts(
  assessment: Assessment,
  options: PublishPartsOptions,
): Promise<{ result: ApplyResult; entry?: LockEntry } | undefined> {
  const file = assessment.file;
  const dir = join(options.partsDir, manifestSlug(file));
  if (
    !(await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return undefined;
  const repo = assessment.manifest?.hubmerge.output?.repo;
  core.startGroup(`publish the parts of ${file}`);
  try {
    const { record, published } = await assembleParts({
      manifestPath: file,
      partsDir: dir,
      resolver: options.session.resolver,
      lineageOf: options.session.lineageOf,
      hubUrl: options.session.hub.hubUrl,
      publish: { hub: options.session.hub, signal: options.signal },
    });
    core.info(
      published!.unchanged
        ? `${repo} already holds these exact bytes at ${published!.commitSha}: no commit made`
        : `published ${published!.url} at ${published!.commitSha}`,
    );
    return {
      result: {
        manifest: file,
        status: "published",
        repo,
        commit: published!.commitSha,
        url: published!.url,
        ...(published!.unchanged && { unchanged: true }),
      },
      entry: lockEntry(record, repo!, published!.commitSha),
    };
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    core.error(error.format(), { file, startLine: error.where.line, startColumn: error.where.column });
    return { result: { manifest: file, status: "failed", repo, error: error.message } };
  } finally {
    core.endGroup();
  }
}
