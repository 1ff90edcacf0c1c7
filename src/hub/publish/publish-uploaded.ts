/**
 * Publishing whose large files were uploaded before the commit: the target repo is prepared
 * first (created, checked not to be someone else's), shards go up as LFS objects while the merge
 * runs or on other runners (upload-shards.ts), and at the end ONE commit with `parentCommit`
 * names every object (`lfsFile` lines) and carries the small files inline. Until that commit the
 * repo does not change; the objects are content-addressed, so a failed run leaves nothing visible
 * and the next run finds them already stored.
 */
import { HubApiError } from "@huggingface/hub";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { HubmergeError } from "../../errors.js";
import { createRetryingFetch, type RetryOptions } from "../client/retrying-fetch.js";
import { assertNoTokenInFiles, listOutputFiles, staleFiles, type FolderFile } from "./output-files.js";
import {
  commitChecked,
  refuseForeignRepo,
  requireWriteToken,
  type PublishEvent,
  type PublishOptions,
  type PublishResult,
} from "./publish.js";
import { matchesRemote } from "./unchanged-output.js";
import { prepareTargetRepo } from "./target-repo.js";
import { missingLfsObjects, uploadLfsObject, type LfsTarget } from "./upload-lfs.js";
import { ShardUploads, type UploadedFile } from "./upload-shards.js";

export type { UploadedFile } from "./upload-shards.js";

export type PublishTargetOptions = Omit<PublishOptions, "dir">;

/** Files at least this large, and every safetensors file, travel as LFS objects (the Hub's rule). */
const LFS_MIN_BYTES = 10 * 1024 * 1024;
const BRANCH = "main";

export interface PublishTarget {
  /** Where shard uploads go; `add` each shard as it completes. */
  readonly uploads: ShardUploads;
  readonly created: boolean;
  /** Which of these files the Hub does not hold as LFS objects. */
  missing(files: readonly UploadedFile[]): Promise<UploadedFile[]>;
  /**
   * One commit on the branch's current head: the files of `dir` (those not in `uploaded`) and
   * every object in `uploaded`, which must be on the Hub already (else nothing is committed).
   */
  commit(dir: string, uploaded: readonly UploadedFile[]): Promise<PublishResult>;
}

/** Checks the token and the target repo before any merging, and returns where uploads go. */
export async function openPublishTarget(opts: PublishTargetOptions): Promise<PublishTarget> {
  const token = requireWriteToken(opts);
  const hub = { hubUrl: opts.hub.hubUrl, token };
  const emit = opts.onProgress ?? (() => undefined);
  const retry: RetryOptions = {
    ...opts.retry,
    onRetry: (info) => {
      opts.retry?.onRetry?.(info);
      emit({ event: "retry", info });
    },
  };
  const prepare = async () => {
    const target = await prepareTargetRepo({
      hub,
      repo: opts.repo,
      private: opts.private,
      branch: BRANCH,
      fetch: opts.fetch,
      retry,
      signal: opts.signal,
      warn: (message) => emit({ event: "warning", message }),
    });
    refuseForeignRepo(opts, target);
    return target;
  };
  const first = await prepare();
  const lfs: LfsTarget = {
    hubUrl: hub.hubUrl,
    token,
    repo: opts.repo,
    fetch: createRetryingFetch({ ...retry, fetch: opts.fetch }),
    signal: opts.signal,
  };
  const uploads = new ShardUploads(lfs);
  return {
    uploads,
    created: first.created,
    missing: async (files) => {
      if (files.length === 0) return [];
      const absent = await missingLfsObjects(
        lfs,
        files.map((f) => ({ oid: f.sha256, size: f.size })),
      );
      return files.filter((f) => absent.some((a) => a.oid === f.sha256));
    },
    commit: async (dir, uploaded) => {
      const local = await localFiles(dir, uploaded, token);
      const inline: FolderFile[] = [];
      const lfsFiles = [...uploaded];
      for (const file of local) {
        if (!needsLfs(file)) inline.push(file);
        else lfsFiles.push(await uploadLocal(lfs, file));
      }
      await assertUploaded(lfs, uploaded);
      emit({ event: "phase", phase: "inspecting" });
      const target = await prepare();
      const produced = new Set([...inline, ...lfsFiles].map((f) => f.path));
      const deleted = staleFiles(target.files, produced, target.previousOutput);
      const url = `${hub.hubUrl}/${opts.repo}`;
      // Bytes equal to the repo's current files make no commit (a re-run, or a fan-out re-tried).
      const sameUploads = uploaded.every((f) => {
        const remote = target.refs.get(f.path);
        return remote?.lfsOid === f.sha256 && remote.size === f.size;
      });
      if (
        deleted.length === 0 &&
        !target.created &&
        sameUploads &&
        (await matchesRemote(dir, local, target.refs))
      ) {
        return { commitSha: target.head, url, created: false, deleted, unchanged: true };
      }
      const lines = await commitLines(inline, lfsFiles, deleted);
      emit({ event: "phase", phase: "committing" });
      const commitSha = await commitChecked(
        opts,
        hub,
        retry,
        target.head,
        (fetch, description, attempt) =>
          postCommit(opts, hub, fetch, { parentCommit: target.head, description, lines }, attempt),
        emit,
      );
      return { commitSha, url, created: first.created, deleted };
    },
  };
}

/** The folder's files less those already uploaded; none may contain the token. */
async function localFiles(
  dir: string,
  uploaded: readonly UploadedFile[],
  token: string,
): Promise<FolderFile[]> {
  const files = await listOutputFiles(dir);
  await assertNoTokenInFiles(files, token);
  const skip = new Set(uploaded.map((f) => f.path));
  return files.filter((f) => !skip.has(f.path));
}

function needsLfs(file: FolderFile): boolean {
  return file.size >= LFS_MIN_BYTES || file.path.endsWith(".safetensors");
}

async function uploadLocal(lfs: LfsTarget, file: FolderFile): Promise<UploadedFile> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file.absolutePath)) hash.update(chunk as Buffer);
  const sha256 = hash.digest("hex");
  const handle = await open(file.absolutePath, "r");
  try {
    const read = async (offset: number, length: number) => {
      const bytes = Buffer.alloc(length);
      await handle.read(bytes, 0, length, offset);
      return bytes;
    };
    await uploadLfsObject(lfs, { oid: sha256, size: file.size }, read, file.path);
  } finally {
    await handle.close();
  }
  return { path: file.path, size: file.size, sha256 };
}

/** Refuses to commit a reference to an object the Hub does not hold. */
async function assertUploaded(lfs: LfsTarget, uploaded: readonly UploadedFile[]): Promise<void> {
  if (uploaded.length === 0) return;
  const missing = await missingLfsObjects(
    lfs,
    uploaded.map((f) => ({ oid: f.sha256, size: f.size })),
  );
  if (missing.length === 0) return;
  const named = uploaded.filter((f) => missing.some((m) => m.oid === f.sha256));
  throw new HubmergeError(
    "E_HUB_NOT_FOUND",
    `${named.length} file(s) to publish are not on the Hub as LFS objects (first: ${named[0]!.path}, sha256 ${named[0]!.sha256}); nothing was committed`,
    {
      where: { model: lfs.repo },
      hint: "re-run the part that made it with --push (its upload did not finish), then publish again",
    },
  );
}

async function commitLines(
  inline: FolderFile[],
  lfsFiles: UploadedFile[],
  deleted: string[],
): Promise<string[]> {
  const lines: unknown[] = [];
  for (const file of inline) {
    const content = (await readFile(file.absolutePath)).toString("base64");
    lines.push({ key: "file", value: { path: file.path, content, encoding: "base64" } });
  }
  for (const file of [...lfsFiles].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    lines.push({
      key: "lfsFile",
      value: { path: file.path, algo: "sha256", size: file.size, oid: file.sha256 },
    });
  }
  for (const path of deleted) lines.push({ key: "deletedFile", value: { path } });
  return lines.map((line) => JSON.stringify(line));
}

async function postCommit(
  opts: PublishTargetOptions,
  hub: { hubUrl: string; token: string },
  fetch: typeof globalThis.fetch,
  body: { parentCommit: string; description: string; lines: string[] },
  attempt: { reachedCommit: boolean },
): Promise<string> {
  const url = `${hub.hubUrl}/api/models/${opts.repo}/commit/${encodeURIComponent(BRANCH)}`;
  const header = {
    key: "header",
    value: { summary: opts.commitTitle, description: body.description, parentCommit: body.parentCommit },
  };
  attempt.reachedCommit = true;
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${hub.token}`, "Content-Type": "application/x-ndjson" },
    body: [JSON.stringify(header), ...body.lines].join("\n"),
    signal: opts.signal,
  });
  const text = await response.text();
  if (!response.ok) {
    const error = new HubApiError(url, response.status, response.headers.get("X-Request-Id") ?? undefined);
    error.message = `commit failed with status ${response.status}: ${text.slice(0, 300)}`;
    throw error;
  }
  const answer = JSON.parse(text) as { commitOid?: string };
  if (!answer.commitOid) {
    throw new HubmergeError("E_NETWORK", `the Hub did not say which commit it made on ${opts.repo}`);
  }
  return answer.commitOid;
}

export type { PublishEvent };
