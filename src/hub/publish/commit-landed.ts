/**
 * After a commit POST whose answer was lost (a cut connection, a 5xx from a proxy), the only
 * safe question is "did it land?". Each publish puts a unique id in its commit message; this
 * looks for that id among the newest commits of the branch and checks that the commit sits
 * directly on the parent the publish asked for.
 */
import { listCommits } from "@huggingface/hub";

export const PUBLISH_ID_TRAILER = "Hubmerge-Publish-Id";

/** How far back to look: a lost answer is seconds old, so our commit is among the newest. */
const SEARCH_DEPTH = 20;

export interface CommitLookup {
  repo: string;
  branch: string;
  hubUrl: string;
  accessToken: string;
  fetch: typeof fetch;
}

export interface BranchState {
  /** The newest commit of the branch. */
  head: string | undefined;
  /** Our commit's id, when it landed on `parentCommit`. */
  landed: string | undefined;
}

export function publishIdTrailer(publishId: string): string {
  return `${PUBLISH_ID_TRAILER}: ${publishId}`;
}

export async function findLandedCommit(
  lookup: CommitLookup,
  publishId: string,
  parentCommit: string,
): Promise<BranchState> {
  const trailer = publishIdTrailer(publishId);
  const commits: { oid: string; title: string; message: string }[] = [];
  const history = listCommits({
    repo: { type: "model", name: lookup.repo },
    revision: lookup.branch,
    batchSize: SEARCH_DEPTH + 1,
    hubUrl: lookup.hubUrl,
    accessToken: lookup.accessToken,
    fetch: lookup.fetch,
  });
  for await (const commit of history) {
    commits.push(commit);
    if (commits.length > SEARCH_DEPTH) break;
  }
  const index = commits.findIndex((c) => c.message.includes(trailer) || c.title.includes(trailer));
  const onParent = index >= 0 && commits[index + 1]?.oid === parentCommit;
  return { head: commits[0]?.oid, landed: onParent ? commits[index]!.oid : undefined };
}
