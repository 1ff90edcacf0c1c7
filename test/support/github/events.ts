/**
 * Event payloads shaped like GitHub's (the fields actions and bots read), and the runner
 * contract for an Action run: the GITHUB_EVENT_PATH file plus the GITHUB_* variables.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HTML_URL } from "./shapes.js";

export type ActionEventName =
  "pull_request" | "push" | "schedule" | "repository_dispatch" | "workflow_dispatch";

export interface ActionEvent {
  name: ActionEventName;
  payload: Record<string, unknown>;
  /** `owner/name`. */
  repository: string;
  /** What the runner puts in GITHUB_SHA and GITHUB_REF. */
  sha: string;
  ref: string;
  headRef?: string;
  baseRef?: string;
}

export interface PushCommit {
  id: string;
  tree_id: string;
  message: string;
  timestamp: string;
  added: string[];
  removed: string[];
  modified: string[];
  author?: { name: string; email: string };
}

const ZERO_SHA = "0".repeat(40);

function userPayload(login: string) {
  return {
    login,
    id: 583231,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    html_url: `${HTML_URL}/${login}`,
  };
}

export function repositoryPayload(fullName: string, defaultBranch = "main") {
  const [owner = "", name = ""] = fullName.split("/");
  return {
    id: 100_000,
    name,
    full_name: fullName,
    private: false,
    owner: { ...userPayload(owner), name: owner },
    html_url: `${HTML_URL}/${fullName}`,
    default_branch: defaultBranch,
    master_branch: defaultBranch,
  };
}

export function pullRequestEvent(o: {
  repo: string;
  number: number;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  action?: "opened" | "synchronize" | "reopened" | "edited";
  title?: string;
  body?: string | null;
  sender?: string;
  defaultBranch?: string;
}): ActionEvent {
  const repository = repositoryPayload(o.repo, o.defaultBranch);
  const side = (s: { ref: string; sha: string }) => ({
    ...s,
    label: `${repository.owner.login}:${s.ref}`,
    repo: repository,
  });
  const pull = {
    number: o.number,
    html_url: `${HTML_URL}/${o.repo}/pull/${o.number}`,
    state: "open",
    title: o.title ?? `Pull request #${o.number}`,
    body: o.body ?? null,
    user: userPayload(o.sender ?? "octocat"),
    head: side(o.head),
    base: side(o.base),
    draft: false,
    merged: false,
  };
  const payload = {
    action: o.action ?? "opened",
    number: o.number,
    pull_request: pull,
    repository,
    sender: userPayload(o.sender ?? "octocat"),
  };
  const ref = `refs/pull/${o.number}/merge`;
  return {
    name: "pull_request",
    payload,
    repository: o.repo,
    sha: o.head.sha,
    ref,
    headRef: o.head.ref,
    baseRef: o.base.ref,
  };
}

export function pushEvent(o: {
  repo: string;
  after: string;
  before?: string;
  branch?: string;
  commits?: PushCommit[];
  sender?: string;
  defaultBranch?: string;
  installationId?: number;
}): ActionEvent {
  const ref = `refs/heads/${o.branch ?? "main"}`;
  const before = o.before ?? ZERO_SHA;
  const commits = (o.commits ?? []).map((c) => ({
    ...c,
    distinct: true,
    url: `${HTML_URL}/${o.repo}/commit/${c.id}`,
    author: c.author ?? { name: "Octo Cat", email: "octocat@example.com" },
    committer: c.author ?? { name: "Octo Cat", email: "octocat@example.com" },
  }));
  const payload = {
    ref,
    before,
    after: o.after,
    created: before === ZERO_SHA,
    deleted: o.after === ZERO_SHA,
    forced: false,
    base_ref: null,
    compare: `${HTML_URL}/${o.repo}/compare/${before.slice(0, 12)}...${o.after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
    repository: repositoryPayload(o.repo, o.defaultBranch),
    pusher: { name: o.sender ?? "octocat", email: "octocat@example.com" },
    sender: userPayload(o.sender ?? "octocat"),
    ...(o.installationId === undefined ? {} : { installation: { id: o.installationId } }),
  };
  return { name: "push", payload, repository: o.repo, sha: o.after, ref };
}

/** GitHub's schedule payload carries only the cron line and the workflow file. */
export function scheduleEvent(o: { repo: string; sha: string; branch?: string; cron?: string }): ActionEvent {
  const payload = { schedule: o.cron ?? "17 3 * * *", workflow: ".github/workflows/hubmerge.yml" };
  return {
    name: "schedule",
    payload,
    repository: o.repo,
    sha: o.sha,
    ref: `refs/heads/${o.branch ?? "main"}`,
  };
}

export function repositoryDispatchEvent(o: {
  repo: string;
  sha: string;
  eventType: string;
  clientPayload?: Record<string, unknown>;
  branch?: string;
  sender?: string;
}): ActionEvent {
  const branch = o.branch ?? "main";
  const payload = {
    action: o.eventType,
    branch,
    client_payload: o.clientPayload ?? {},
    repository: repositoryPayload(o.repo, branch),
    sender: userPayload(o.sender ?? "hubmerge-local[bot]"),
  };
  return {
    name: "repository_dispatch",
    payload,
    repository: o.repo,
    sha: o.sha,
    ref: `refs/heads/${branch}`,
  };
}

export function workflowDispatchEvent(o: {
  repo: string;
  sha: string;
  inputs?: Record<string, string | boolean>;
  branch?: string;
  sender?: string;
}): ActionEvent {
  const ref = `refs/heads/${o.branch ?? "main"}`;
  const payload = {
    inputs: o.inputs ?? {},
    ref,
    repository: repositoryPayload(o.repo),
    sender: userPayload(o.sender ?? "octocat"),
    workflow: ".github/workflows/hubmerge.yml",
  };
  return { name: "workflow_dispatch", payload, repository: o.repo, sha: o.sha, ref };
}

/**
 * Writes `event.json` into `dir` and returns the variables a runner sets for the step
 * (GITHUB_API_URL points at the local GitHub). Merge `env` into the child's environment.
 */
export async function writeActionEvent(
  dir: string,
  event: ActionEvent,
  options: { apiUrl: string; actor?: string },
): Promise<{ path: string; env: Record<string, string> }> {
  const path = join(dir, "event.json");
  await writeFile(path, `${JSON.stringify(event.payload, null, 2)}\n`);
  const env: Record<string, string> = {
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: path,
    GITHUB_REPOSITORY: event.repository,
    GITHUB_REPOSITORY_OWNER: event.repository.split("/")[0] ?? "",
    GITHUB_SHA: event.sha,
    GITHUB_REF: event.ref,
    GITHUB_REF_NAME: event.ref.replace(/^refs\/(heads|tags)\//, ""),
    GITHUB_HEAD_REF: event.headRef ?? "",
    GITHUB_BASE_REF: event.baseRef ?? "",
    GITHUB_API_URL: options.apiUrl,
    GITHUB_SERVER_URL: HTML_URL,
    GITHUB_GRAPHQL_URL: `${options.apiUrl}/graphql`,
    GITHUB_ACTOR: options.actor ?? "octocat",
    GITHUB_WORKFLOW: "hubmerge",
    GITHUB_JOB: "hubmerge",
    GITHUB_ACTION: "hubmerge",
    GITHUB_RUN_ID: "1",
    GITHUB_RUN_NUMBER: "1",
    GITHUB_RUN_ATTEMPT: "1",
  };
  return { path, env };
}
