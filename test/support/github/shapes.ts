/** The JSON GitHub's REST API returns for each kind of resource (the fields clients read). */
import type { CommitObject, TreeEntry } from "./git-store.js";
import { encodePath } from "./http.js";
import type { CommentRecord, PullRecord, RepoState, UserRecord } from "./repo-state.js";

export const HTML_URL = "https://github.com";

const nodeId = (kind: string, id: number | string) => Buffer.from(`${kind}:${id}`).toString("base64url");

export function userJson(user: UserRecord) {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId("User", user.id),
    type: user.type,
    site_admin: false,
    html_url: `${HTML_URL}/${user.login}`,
  };
}

export function repoApiUrl(api: string, repo: RepoState): string {
  return `${api}/repos/${repo.owner}/${repo.name}`;
}

export function repoJson(api: string, repo: RepoState) {
  const owner = { login: repo.owner, id: 500 + repo.id, type: "User" } as const;
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.isPrivate,
    visibility: repo.isPrivate ? "private" : "public",
    owner: userJson(owner),
    html_url: `${HTML_URL}/${repo.fullName}`,
    description: null,
    fork: false,
    url: repoApiUrl(api, repo),
    default_branch: repo.defaultBranch,
    archived: false,
    disabled: false,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.createdAt,
  };
}

export function refJson(api: string, repo: RepoState, ref: string, sha: string) {
  return {
    ref,
    node_id: nodeId("Ref", `${repo.id}:${ref}`),
    url: `${repoApiUrl(api, repo)}/git/${ref}`,
    object: { sha, type: "commit", url: `${repoApiUrl(api, repo)}/git/commits/${sha}` },
  };
}

export function gitCommitJson(api: string, repo: RepoState, sha: string, commit: CommitObject) {
  const base = repoApiUrl(api, repo);
  return {
    sha,
    node_id: nodeId("Commit", sha),
    url: `${base}/git/commits/${sha}`,
    html_url: `${HTML_URL}/${repo.fullName}/commit/${sha}`,
    author: { ...commit.author },
    committer: { ...commit.committer },
    tree: { sha: commit.tree, url: `${base}/git/trees/${commit.tree}` },
    message: commit.message,
    parents: commit.parents.map((p) => ({
      sha: p,
      url: `${base}/git/commits/${p}`,
      html_url: `${HTML_URL}/${repo.fullName}/commit/${p}`,
    })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

export function treeEntryJson(api: string, repo: RepoState, path: string, entry: TreeEntry, size?: number) {
  const kind = entry.type === "tree" ? "trees" : "blobs";
  return {
    path,
    mode: entry.mode,
    type: entry.type,
    sha: entry.sha,
    ...(entry.type === "blob" ? { size: size ?? 0 } : {}),
    ...(entry.type === "commit" ? {} : { url: `${repoApiUrl(api, repo)}/git/${kind}/${entry.sha}` }),
  };
}

/** One item of the contents API (a file's metadata, or an entry of a folder listing). */
export function contentItemJson(
  api: string,
  repo: RepoState,
  path: string,
  entry: TreeEntry,
  ref: string,
  size: number,
) {
  const type =
    entry.type === "tree"
      ? "dir"
      : entry.type === "commit"
        ? "submodule"
        : entry.mode === "120000"
          ? "symlink"
          : "file";
  const self = `${repoApiUrl(api, repo)}/contents/${encodePath(path)}?ref=${encodeURIComponent(ref)}`;
  const git = `${repoApiUrl(api, repo)}/git/${entry.type === "tree" ? "trees" : "blobs"}/${entry.sha}`;
  const html = `${HTML_URL}/${repo.fullName}/${entry.type === "tree" ? "tree" : "blob"}/${ref}/${path}`;
  const download =
    type === "file" ? `${api}/_raw/${repo.fullName}/${encodeURIComponent(ref)}/${encodePath(path)}` : null;
  return {
    type,
    name: path.split("/").pop() ?? path,
    path,
    sha: entry.sha,
    size: entry.type === "blob" ? size : 0,
    url: self,
    html_url: html,
    git_url: git,
    download_url: download,
    _links: { self, git, html },
  };
}

function branchJson(api: string, repo: RepoState, branch: string, sha: string | undefined) {
  return {
    label: `${repo.owner}:${branch}`,
    ref: branch,
    sha: sha ?? null,
    user: userJson({ login: repo.owner, id: 500 + repo.id, type: "User" }),
    repo: repoJson(api, repo),
  };
}

export function pullJson(api: string, repo: RepoState, pull: PullRecord) {
  const url = `${repoApiUrl(api, repo)}/pulls/${pull.number}`;
  return {
    url,
    id: pull.number + repo.id * 1000,
    node_id: nodeId("PullRequest", `${repo.id}:${pull.number}`),
    html_url: `${HTML_URL}/${repo.fullName}/pull/${pull.number}`,
    issue_url: `${repoApiUrl(api, repo)}/issues/${pull.number}`,
    comments_url: `${repoApiUrl(api, repo)}/issues/${pull.number}/comments`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    body: pull.body,
    user: userJson(pull.user),
    draft: pull.draft,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: null,
    merged: false,
    mergeable: null,
    head: branchJson(api, repo, pull.head, repo.branchSha(pull.head)),
    base: branchJson(api, repo, pull.base, repo.branchSha(pull.base)),
  };
}

export function commentJson(api: string, repo: RepoState, comment: CommentRecord) {
  return {
    id: comment.id,
    node_id: nodeId("IssueComment", comment.id),
    url: `${repoApiUrl(api, repo)}/issues/comments/${comment.id}`,
    html_url: `${HTML_URL}/${repo.fullName}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${repoApiUrl(api, repo)}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: "NONE",
  };
}
