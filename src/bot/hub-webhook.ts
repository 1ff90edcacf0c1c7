/**
 * What a Hugging Face webhook body means for the bot. A new commit on a model's `main` is
 * `event: {action: "update", scope: "repo.content"}` with `updatedRefs` holding
 * `{ref: "refs/heads/main", newSha}`; pull requests (`refs/pr/N`), other branches, tags,
 * deletions (`newSha: null`), datasets, Spaces, discussions and settings are not.
 * Bodies are untrusted: every field used is checked for type and form.
 */
import { z } from "zod";
import { repoIdProblem } from "../model-ref.js";

export const MAIN_REF = "refs/heads/main";

export type HubWebhookDecision =
  { kind: "update"; model: string; sha: string } | { kind: "ignore"; reason: string };

const UPDATED_REF = z.object({
  ref: z.string().max(512),
  oldSha: z.string().nullish(),
  newSha: z.string().nullish(),
});

const PAYLOAD = z.object({
  event: z.object({ action: z.string().max(64), scope: z.string().max(128) }),
  repo: z.object({ type: z.string().max(32), name: z.string().max(256) }),
  updatedRefs: z.array(UPDATED_REF).max(1000).optional(),
});

const SHA = /^[0-9a-f]{40}$/;

const ignore = (reason: string): HubWebhookDecision => ({ kind: "ignore", reason });

export function classifyHubWebhook(body: unknown): HubWebhookDecision {
  const parsed = PAYLOAD.safeParse(body);
  if (!parsed.success)
    return ignore("not a Hub webhook payload (event, repo or updatedRefs missing or malformed)");
  const { event, repo, updatedRefs } = parsed.data;
  if (event.scope !== "repo.content") return ignore(`event scope ${event.scope} is not repo.content`);
  if (event.action !== "update") return ignore(`event action ${event.action} is not update`);
  if (repo.type !== "model") return ignore(`${repo.type} ${repo.name} is not a model`);
  const problem = repoIdProblem(repo.name, true);
  if (problem !== undefined) return ignore(`repo name "${repo.name}" is not a model id: it ${problem}`);
  const main = updatedRefs?.find((r) => r.ref === MAIN_REF);
  if (main === undefined) {
    const refs = (updatedRefs ?? []).map((r) => r.ref).join(", ") || "none";
    return ignore(`no update to ${MAIN_REF} (updated refs: ${refs})`);
  }
  if (main.newSha === null || main.newSha === undefined)
    return ignore(`${MAIN_REF} of ${repo.name} was deleted`);
  if (!SHA.test(main.newSha)) return ignore(`newSha of ${MAIN_REF} is not a commit sha`);
  return { kind: "update", model: repo.name, sha: main.newSha };
}
