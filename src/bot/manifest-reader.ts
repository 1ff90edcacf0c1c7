/**
 * Which Hub models one repository's manifests follow, read through the GitHub API: the tree of
 * one commit (recursive), the blobs whose paths match the manifest globs, each parsed with the
 * same parser the CLI and the Action use. A model counts when it is referenced unpinned or
 * pinned to `main`: only those change when the Hub's `main` moves.
 */
import { HubmergeError } from "../errors.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "../manifest/parse.js";
import { referencedModels } from "../manifest/referenced-models.js";
import { splitRepo } from "./github-access.js";
import { createPathMatcher } from "./glob.js";
import type { BotOctokit } from "./octokit.js";

export interface ManifestModels {
  path: string;
  /** Hub repo ids the manifest follows (empty when it failed to parse). */
  models: string[];
  /** Why the manifest could not be read, if it could not. */
  error?: string;
}

export interface RepoManifests {
  repo: string;
  /** The commit (or branch) that was read. */
  ref: string;
  manifests: ManifestModels[];
  /** The tree listing was cut short by GitHub: some manifests may be missing. */
  truncated: boolean;
}

/** Parsing anchors local model paths at the manifest's folder: this one never exists, so
 * `org/name` is always read as a Hub model, never as a folder on the bot's own disk. */
const VIRTUAL_ROOT = "/nonexistent-hubmerge-bot";

export function modelsFollowed(text: string, repo: string, path: string): string[] {
  const manifest = parseManifest(text, `${VIRTUAL_ROOT}/${repo}/${path}`);
  const followed = referencedModels(manifest).filter(
    (ref) => ref.kind === "hub" && ref.repo !== undefined && (ref.revision ?? "main") === "main",
  );
  return [...new Set(followed.map((ref) => ref.repo as string))];
}

/** Aborting stops a read at shutdown, retries included. */
type Signal = AbortSignal | undefined;

async function defaultBranch(client: BotOctokit, repo: string, signal: Signal): Promise<string> {
  const { data } = await client.rest.repos.get({ ...splitRepo(repo), request: { signal } });
  return data.default_branch;
}

async function readBlob(client: BotOctokit, repo: string, sha: string, signal: Signal): Promise<string> {
  const { data } = await client.rest.git.getBlob({ ...splitRepo(repo), file_sha: sha, request: { signal } });
  if (data.encoding !== "base64") return data.content;
  return Buffer.from(data.content, "base64").toString("utf8");
}

function describe(error: unknown): string {
  const text =
    error instanceof HubmergeError ? error.format() : error instanceof Error ? error.message : String(error);
  return text.split(`${VIRTUAL_ROOT}/`).join("");
}

async function readOne(
  client: BotOctokit,
  repo: string,
  entry: { path: string; sha: string; size?: number },
  signal: Signal,
): Promise<ManifestModels> {
  if ((entry.size ?? 0) > MAX_MANIFEST_BYTES) {
    return { path: entry.path, models: [], error: `larger than ${MAX_MANIFEST_BYTES} bytes` };
  }
  const text = await readBlob(client, repo, entry.sha, signal);
  try {
    return { path: entry.path, models: modelsFollowed(text, repo, entry.path) };
  } catch (error) {
    return { path: entry.path, models: [], error: describe(error) };
  }
}

/**
 * Reads the manifests of `repo` at `ref` (a commit sha or branch; default: the default branch).
 * GitHub failures throw (after octokit's retries); a manifest that does not parse is reported
 * in its entry, with no models.
 */
export async function readRepoManifests(
  client: BotOctokit,
  repo: string,
  globs: readonly string[],
  ref?: string,
  signal?: AbortSignal,
): Promise<RepoManifests> {
  const at = ref ?? (await defaultBranch(client, repo, signal));
  const { data } = await client.rest.git.getTree({
    ...splitRepo(repo),
    tree_sha: at,
    recursive: "1",
    request: { signal },
  });
  const matches = createPathMatcher(globs);
  const entries = data.tree.filter(
    (e): e is typeof e & { path: string; sha: string } =>
      e.type === "blob" && typeof e.path === "string" && typeof e.sha === "string" && matches(e.path),
  );
  const manifests: ManifestModels[] = [];
  for (const entry of entries.sort((a, b) => a.path.localeCompare(b.path))) {
    manifests.push(await readOne(client, repo, entry, signal));
  }
  return { repo, ref: at, manifests, truncated: data.truncated };
}
