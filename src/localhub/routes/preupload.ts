/** `POST /api/models/{repo}/preupload/{rev}`: which files must go through LFS. */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { uploadModeFor } from "../upload-mode.js";
import { own } from "../own.js";
import type { Snapshot } from "../types.js";
import { repoFor } from "./common.js";

/** Both clients ask about at most 256 files per request; a sample is 512 bytes (base64). */
const MAX_PREUPLOAD_FILES = 1000;
const MAX_PREUPLOAD_BODY_BYTES = 2 * 1024 * 1024;

const PreuploadBody = z.looseObject({
  files: z
    .array(
      z.looseObject({
        path: z.string().max(1000),
        size: z.number().int().nonnegative(),
        sample: z.string().max(1024),
      }),
    )
    .max(MAX_PREUPLOAD_FILES),
});

export async function preupload(ctx: RequestContext): Promise<void> {
  const [id = "", revision = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, PreuploadBody, "preupload request", MAX_PREUPLOAD_BODY_BYTES);
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  await sendJson(ctx, 200, {
    commitOid: commit.id,
    files: body.files.map((file) => ({
      path: file.path,
      uploadMode: uploadModeFor({ ...file, sample: Buffer.from(file.sample, "base64") }),
      shouldIgnore: false,
      ...remoteOid(commit.files, file.path),
    })),
  });
}

/**
 * The `oid` of the file now at `path`, in the form huggingface_hub compares with its local file to
 * skip unchanged files (and a commit where nothing changed): the sha256 for LFS files, the git
 * blob sha1 for regular ones. Absent when there is no file there.
 */
function remoteOid(files: Snapshot, path: string): { oid?: string } {
  const entry = own(files, path);
  if (!entry) return {};
  return { oid: entry.lfs ? entry.lfs.oid : entry.oid };
}
