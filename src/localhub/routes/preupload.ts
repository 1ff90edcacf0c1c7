/** `POST /api/models/{repo}/preupload/{rev}`: which files must go through LFS. */
import { z } from "zod";
import type { RequestContext } from "../context.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";
import { uploadModeFor } from "../upload-mode.js";
import { repoFor } from "./common.js";

const PreuploadBody = z.looseObject({
  files: z.array(
    z.looseObject({ path: z.string(), size: z.number().int().nonnegative(), sample: z.string() }),
  ),
});

export async function preupload(ctx: RequestContext): Promise<void> {
  const [id = "", revision = ""] = ctx.params;
  const repo = repoFor(ctx, id, "write");
  const body = await readJson(ctx.req, PreuploadBody, "preupload request");
  const commit = await ctx.hub.store.resolve(repo.id, revision);
  await sendJson(ctx, 200, {
    commitOid: commit.id,
    files: body.files.map((file) => ({
      path: file.path,
      uploadMode: uploadModeFor({ ...file, sample: Buffer.from(file.sample, "base64") }),
      shouldIgnore: false,
    })),
  });
}
