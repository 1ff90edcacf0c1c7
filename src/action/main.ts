import * as core from "@actions/core";
import { context, getOctokit } from "@actions/github";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { HubmergeError } from "../errors.js";
import { hubSession, type HubSession } from "../session.js";
import {
  LOCKFILE_NAME,
  readLockfile,
  serializeLockfile,
  writeLockfile,
  type Lockfile,
} from "../lock/lockfile.js";
import { applyManifest } from "./apply.js";
import { attestationSubjects, outputSubjects } from "./attest-subjects.js";
import { assessManifest, type Assessment } from "./assess.js";
import { upsertPlanComment } from "./comment.js";
import { discoverManifests } from "./discover.js";
import { decideIntent, type RunIntent } from "./event.js";
import { readInputs, type ActionInputs } from "./inputs.js";
import { commitLockfile } from "./lock-commit.js";
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
    const intent = decideIntent(inputs.mode, { name: context.eventName, payload: context.payload });
    const workspace = process.env["GITHUB_WORKSPACE"] ?? process.cwd();
    process.chdir(workspace); // manifests, errors and cards all speak in repo-relative paths
    const session = hubSession(
      { hubUrl: inputs.hubUrl, ...(inputs.hfToken ? { token: inputs.hfToken } : {}) },
      {
        signal: controller.signal,
      },
    );
    const lock = await readLockfile(LOCKFILE_NAME);
    const files = await selectManifests(
      await discoverManifests(workspace, inputs.manifests),
      inputs.only,
      intent,
    );
    core.info(`${files.length} manifest(s): ${files.join(", ")}`);
    const assessments: Assessment[] = [];
    for (const file of files) {
      assessments.push(
        await assessManifest(file, { session, lock, force: inputs.force, deep: intent.mode === "plan" }),
      );
    }
    annotate(assessments);
    const needed = assessments.filter((a) => !a.error && a.decision?.needed);
    core.setOutput("matrix", JSON.stringify({ include: needed.map((a) => ({ manifest: a.file })) }));
    core.setOutput("has-work", String(needed.length > 0));
    if (needed.length === 0 && assessments.every((a) => !a.error))
      core.info("nothing changed since the lockfile: nothing to do");
    if (intent.mode === "plan") await plan(inputs, intent, assessments);
    else await apply(inputs, session, lock, assessments, controller.signal);
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
    const github = getOctokit(inputs.githubToken);
    const comment = await upsertPlanComment(github, context.repo, intent.pullRequest, report);
    core.info(`${comment.created ? "posted" : "updated"} the plan comment on #${intent.pullRequest}`);
  }
  const blocked = assessments.filter((a) => a.compat?.blocking && !a.manifest?.hubmerge.allowIncompatible);
  const invalid = assessments.filter((a) => a.error);
  if (invalid.length + blocked.length > 0) {
    core.setFailed(
      `${invalid.length} manifest(s) with errors, ${blocked.length} with incompatible models: see the job summary`,
    );
  }
}

async function apply(
  inputs: ActionInputs,
  session: HubSession,
  lock: Lockfile,
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
  const updated: Lockfile = { version: 1, manifests: { ...lock.manifests } };
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
      const { result, entry } = await applyManifest(a, {
        session,
        tempDir,
        signal,
        backend: inputs.backend,
        threads: inputs.threads,
      });
      results.push(result);
      if (entry) updated.manifests[a.file] = entry;
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
  if (serializeLockfile(updated) !== serializeLockfile(lock)) await recordLock(inputs, updated, results);
  core.setOutput("results", JSON.stringify(results));
  const published = results.flatMap((r) => {
    const output = r.status === "published" ? updated.manifests[r.manifest]?.output : undefined;
    return output ? [output] : [];
  });
  await outputSubjects(attestationSubjects(published), dirname(tempDir));
  await publishReport(renderReport("apply", assessments, results));
  const failed = results.filter((r) => r.status === "failed");
  if (failed.length > 0)
    core.setFailed(`${failed.length} manifest(s) failed: ${failed.map((r) => r.manifest).join(", ")}`);
}

/** Writes the lockfile in the workspace and records it on GitHub as the lock-update input says. */
async function recordLock(inputs: ActionInputs, lock: Lockfile, results: ApplyResult[]): Promise<void> {
  await writeLockfile(LOCKFILE_NAME, lock);
  if (inputs.lockUpdate === "none") return;
  if (!inputs.githubToken)
    throw new HubmergeError("E_USAGE", "lock-update needs github-token", {
      hint: "pass github-token, or set lock-update: none",
    });
  const published = results.filter((r) => r.status === "published").map((r) => r.repo);
  const branch = context.ref.startsWith("refs/heads/") ? context.ref.slice("refs/heads/".length) : "main";
  const outcome = await commitLockfile({
    github: getOctokit(inputs.githubToken),
    repo: context.repo,
    branch,
    path: LOCKFILE_NAME,
    content: serializeLockfile(lock),
    message: `hubmerge: lock ${published.join(", ")}`,
    mode: inputs.lockUpdate,
  });
  core.info(
    `lockfile committed as ${outcome.commitSha}${outcome.pullRequestUrl ? ` (${outcome.pullRequestUrl})` : ""}`,
  );
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
  const path = join(process.env["RUNNER_TEMP"] ?? process.cwd(), "hubmerge-report.md");
  await writeFile(path, report);
  core.setOutput("report", path);
  await core.summary.addRaw(report).write();
}
