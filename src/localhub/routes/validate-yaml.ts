/**
 * `POST /api/validate-yaml` `{content, repoType}`: 200 `{errors: [], warnings}` for usable
 * front matter, 400 `{error, errors, warnings}` otherwise. No token is needed; nothing is stored.
 */
import { z } from "zod";
import { checkCardMetadata } from "../card-metadata-check.js";
import type { RequestContext } from "../context.js";
import { readJson } from "../http/body.js";
import { sendJson } from "../http/respond.js";

/** Model cards are text; a few MiB is far above any real one. */
const MAX_VALIDATE_BODY_BYTES = 4 * 1024 * 1024;

const ValidateBody = z.looseObject({
  content: z.string(),
  repoType: z.enum(["model", "dataset", "space"]).nullish(),
});

export async function validateYaml(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx.req, ValidateBody, "validate-yaml request", MAX_VALIDATE_BODY_BYTES);
  const report = checkCardMetadata(body.content);
  if (report.errors.length === 0) {
    await sendJson(ctx, 200, report);
    return;
  }
  const error = `Invalid metadata in README.md.\n${report.errors.map((issue) => `- ${issue.message}`).join("\n")}`;
  await sendJson(ctx, 400, { error, ...report }, { "X-Error-Message": headerSafe(error) });
}

function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, " ").slice(0, 500);
}
