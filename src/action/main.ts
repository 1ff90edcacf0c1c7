import * as core from "@actions/core";
import { context } from "@actions/github";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { HubmergeError } from "../errors.js";
import { hubSession, type HubSession } from "../session.js";
import { LOCKFILE_NAME, readLockfile, type LockEntry } from "../lock/lockfile.js";
import { applyManifest } from "./apply.js";
import { attestationSubjects, outputSubjects } from "./attest-subjects.js";
import { assessManifest, type Assessment } from "./assess.js";
import { upsertPlanComment } from "./comment.js";
import { discoverManifests } from "./discover.js";
import { decideIntent, type RunIntent } from "./event.js";
import { exposeWebgpu, gpuFallbackWarning } from "./gpu-note.js";
import { applyMatrix } from "./matrix.js";
import { applyPart, publishParts } from "./parts.js";
import { readInputs, requireApplyInputs, type ActionInputs } from "./inputs.js";
import { createGitHubClient } from "./octokit.js";
import { recordLock } from "./record-lock.js";
import { renderReport, type ApplyResult } from "./report.js";
import { selectManifests } from "./select.js";
import { TEMP_DIR_STATE } from "./state.js";

export async function run(): Promise<void> {
  const controller = new AbortController();
  const cancel = () => controller.abort(new HubmergeError("E_USAGE", "the run was cancelled"));
  process.once("SIGINT", cancel);
  process.once("SIGTERM", cancel);
  try {
    const inputs = readInputs();
    // publish holds the Hub token and commits, so it runs where apply may.
    const intent = decideIntent(inputs.mode === "publish" ? "apply" : inputs.mode, {
      name: context.eventName,
      payload: context.payload,
      ref: context.ref,
    });
    if (intent.mode === "apply") requireApplyInputs(inputs);
    const workspace = process.env["GITHUB_WORKSPACE"] ?? process.cwd();
    process.chdir(workspace); // manifests, errors and cards all speak in repo-relative paths
    exposeWebgpu(workspace, inputs.webgpuPath);
    const session = hubSession(
      { hubUrl: inputs.hubUrl, ...(inputs.hfToken ? { token: inputs.hfToken } : {}) },
      {
        signal: controller.signal,
        workspace, // a pull request's local models may not read the runner's files (issue 13)
      },
    );
    const lock = await readLockfile(LOCKFILE_NAME);
    const found = await discoverManifests(workspace, inputs.manifests);
    if (found.length === 0) {
      core.warning(
        `no manifest matches ${JSON.stringify(inputs.manifests)}: nothing to ${intent.mode}. ` +
          "Set the manifests input to the glob(s) of your merge manifests (one per line).",
      );
    }
    const files = await selectManifests(found, inputs.only, intent);
    core.info(`${files.length} manifest(s): ${files.join(", ")}`);
    const assessments: Assessment[] = [];
    for (const file of files) {
      assessments.push(
        await assessManifest(file, {
          session,
          lock,
          force: inputs.force,
          deep: intent.mode === "plan",
          maxShardBytes: inputs.shardSize,
        }),
      );
    }
    annotate(assessments);
    const needed = assessments.filter((a) => !a.error && a.decision?.needed);
    core.setOutput("matrix", JSON.stringify(applyMatrix(needed)));
    core.setOutput("has-work", String(needed.length > 0));
    if (needed.length === 0 && assessments.every((a) => !a.error))
      core.info("nothing changed since the lockfile: nothing to do");
    if (intent.mode === "plan") await plan(inputs, intent, assessments);
    else await apply(inputs, session, assessments, controller.signal);
  } catch (error) {
    core.setFailed(
      error instanceof HubmergeError ? error.format() : String((error as Error)?.stack ?? error),
    );
  } finally {
    process.off("SIGINT", cancel);
    process.off("SIGTERM", cancel);
  }
}

async function plan(inputs: ActionInputs, intent: RunIntent, assessments: Assessment[]): Promise<void> {
  const report = renderReport("plan", assessments);
  await publishReport(report);
  if (intent.pullRequest !== undefined && inputs.githubToken) {
    await commentPlan(inputs.githubToken, intent.pullRequest, report);
  }
  const blocked = assessments.filter((a) => a.compat?.blocking && !a.manifest?.hubmerge.allowIncompatible);
  const invalid = assessments.filter((a) => a.error);
  if (invalid.length + blocked.length > 0) {
    core.setFailed(
      `${invalid.length} manifest(s) with errors, ${blocked.length} with incompatible models: see the job summary`,
    );
  }
}

/**
 * The comment repeats the job summary, which is already written: when GitHub refuses it (a fork's
 * pull request gets a read-only token), the plan still stands, so this is a warning, not a failure.
 */
async function commentPlan(token: string, pullRequest: number, report: string): Promise<void> {
  try {
    const comment = await upsertPlanComment(createGitHubClient(token), context.repo, pullRequest, report);
    core.info(`${comment.created ? "posted" : "updated"} the plan comment on #${pullRequest}`);
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status !== "number") throw error;
    const reason = (error as Error).message.split("\n")[0];
    core.warning(
      `could not comment on pull request #${pullRequest} (HTTP ${status}: ${reason}); the plan is in the job ` +
        "summary. Pull requests from forks get a read-only token: comment from a workflow_run workflow " +
        "instead (docs/workflows/plan-comment.yml), or give the job `permissions: pull-requests: write`.",
    );
  }
}

async function apply(
  inputs: ActionInputs,
  session: HubSession,
  assessments: Assessment[],
  signal: AbortSignal,
): Promise<void> {
  const tempDir = join(
    process.env["RUNNER_TEMP"] ?? join(process.cwd(), ".hubmerge-tmp"),
    `hubmerge-${process.pid}`,
  );
  await mkdir(tempDir, { recursive: true });
  core.saveState(TEMP_DIR_STATE, tempDir);
  const results: ApplyResult[] = [];
  const entries: Record<string, LockEntry> = {};
  try {
    for (const a of assessments) {
      if (a.error || !a.decision?.needed) {
        results.push({
          manifest: a.file,
          status: a.error ? "failed" : "up-to-date",
          error: a.error?.message,
        });
        continue;
      }
      signal.throwIfAborted();
      const done = await applyOne(a, inputs, { session, tempDir, signal });
      if (!done) {
        results.push({ manifest: a.file, status: "skipped" }); // merged whole in its matrix job
        continue;
      }
      const { result, entry } = done;
      results.push(result);
      if (entry) entries[a.file] = entry;
      const gpuWarning = inputs.backend === "auto" && result.kernels && gpuFallbackWarning(result.kernels);
      if (gpuWarning) core.warning(gpuWarning, { file: a.file });
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
  // The models are on the Hub now: say so before the lock commit, which may still fail.
  core.setOutput("results", JSON.stringify(results));
  const published = results.flatMap((r) => {
    const output = r.status === "published" ? entries[r.manifest]?.output : undefined;
    return output ? [output] : [];
  });
  await outputSubjects(attestationSubjects(published), dirname(tempDir));
  await publishReport(renderReport("apply", assessments, results));
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length > 0)
    core.setFailed(`${failed.length} manifest(s) failed: ${failed.map((r) => r.manifest).join(", ")}`);
  if (Object.keys(entries).length > 0) await lockOrReport(inputs, entries, results);
}

async function lockOrReport(
  inputs: ActionInputs,
  entries: Record<string, LockEntry>,
  results: ApplyResult[],
): Promise<void> {
  const published = results.filter((r) => r.status === "published").map((r) => r.repo!);
  try {
    core.info(await recordLock(inputs, entries, published));
  } catch (error) {
    if (!(error instanceof HubmergeError)) throw error;
    await core.summary
      .addRaw(
        `\n**The lockfile was not recorded:** ${error.message}\n\n` +
          (error.hint ? `How to fix: ${error.hint}\n` : "") +
          "\nThe models above were published; the next run re-merges them until the lock is recorded.\n",
      )
      .write();
    core.setFailed(error.format());
  }
}

/**
 * One manifest, as this job's inputs say: a whole merge (apply), one part of a split merge (apply
 * with `part`: its receipt goes to the `receipts` output folder, no commit, no lock), or the
 * assembly of the parts (publish). Undefined when publish finds no parts of the manifest.
 */
async function applyOne(
  a: Assessment,
  inputs: ActionInputs,
  run: { session: HubSession; tempDir: string; signal: AbortSignal },
): Promise<{ result: ApplyResult; entry?: LockEntry } | undefined> {
  if (inputs.mode === "publish") return publishParts(a, { ...run, partsDir: inputs.partsDir! });
  const merge = { ...run, backend: inputs.backend, threads: inputs.threads, maxShardBytes: inputs.shardSize };
  if (inputs.part === undefined) return applyManifest(a, merge);
  const receiptsDir = join(dirname(run.tempDir), "hubmerge-receipts");
  core.setOutput("receipts", receiptsDir);
  return { result: await applyPart(a, { ...merge, part: inputs.part, pins: inputs.pins!, receiptsDir }) };
}

/** Errors on the exact manifest lines (the runner shows 10 per step; the summary lists them all). */
function annotate(assessments: Assessment[]): void {
  for (const a of assessments) {
    if (a.error) {
      core.error(a.error.message + (a.error.hint ? `\n${a.error.hint}` : ""), {
        file: a.file,
        startLine: a.error.where.line,
        startColumn: a.error.where.column,
        title: a.error.code,
      });
    }
    for (const w of a.manifest?.warnings ?? []) {
      core.warning(w.message, { file: a.file, startLine: w.pos.line, startColumn: w.pos.column });
    }
    for (const f of a.compat?.findings ?? []) {
      if (f.severity === "info") continue;
      const annotation = { file: a.file, startLine: f.pos?.line, startColumn: f.pos?.column, title: f.code };
      (f.severity === "blocking" ? core.error : core.warning)(`${f.message}\n${f.fix}`, annotation);
    }
  }
}

async function publishReport(report: string): Promise<void> {
  const dir = process.env["RUNNER_TEMP"] ?? process.cwd();
  await mkdir(dir, { recursive: true });
  const path = join(dir, "hubmerge-report.md");
  await writeFile(path, report);
  core.setOutput("report", path);
  await core.summary.addRaw(report).write();
}
