import { getOctokit } from "@actions/github";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PLAN_COMMENT_MARKER, upsertPlanComment } from "../../src/action/comment.js";
import { createGitHubClient } from "../../src/action/octokit.js";
import { startLocalGitHub, type LocalGitHub } from "../support/github/index.js";

const REPO = "acme/merges";
const BOT = "ghs_actions_token";
const ALICE = "ghp_alice_token";
const repo = { owner: "acme", repo: "merges" };

let github: LocalGitHub;
let pull: number;

beforeEach(async () => {
  github = await startLocalGitHub({ tokens: [BOT, { token: ALICE, login: "alice" }] });
  github.seedRepo(REPO, { files: { "README.md": "x\n" } });
  github.seedRepo(REPO, { files: { "merges/a.yaml": "x: 1\n" }, branch: "add" });
  pull = github.openPull(REPO, { title: "Add", head: "add" }).number;
});

afterEach(async () => {
  await github.close();
});

describe("the sticky plan comment", () => {
  it("never edits someone else's comment, even one that starts with the marker", async () => {
    const alice = getOctokit(ALICE, { baseUrl: github.url });
    const bot = getOctokit(BOT, { baseUrl: github.url });
    await alice.rest.issues.createComment({
      ...repo,
      issue_number: pull,
      body: `${PLAN_COMMENT_MARKER}\nmine`,
    });
    // The bot's own comment that merely quotes the marker is not the plan comment either.
    await bot.rest.issues.createComment({ ...repo, issue_number: pull, body: `see ${PLAN_COMMENT_MARKER}` });
    const first = await upsertPlanComment(bot, repo, pull, "plan v1");
    expect(first.created).toBe(true);
    const second = await upsertPlanComment(bot, repo, pull, "plan v2");
    expect(second).toEqual({ id: first.id, created: false });
    const comments = github.comments(REPO, pull);
    expect(comments.map((c) => [c.user.login, c.body])).toEqual([
      ["alice", `${PLAN_COMMENT_MARKER}\nmine`],
      ["github-actions[bot]", `see ${PLAN_COMMENT_MARKER}`],
      ["github-actions[bot]", `${PLAN_COMMENT_MARKER}\nplan v2`],
    ]);
  });

  it("a personal token updates the comment its own user wrote (GET /user)", async () => {
    const alice = getOctokit(ALICE, { baseUrl: github.url });
    const first = await upsertPlanComment(alice, repo, pull, "v1");
    expect(await upsertPlanComment(alice, repo, pull, "v2")).toEqual({ id: first.id, created: false });
  });

  it("survives a 502 on listing the comments (the retry plugin re-sends it)", async () => {
    github.faults.set([{ method: "GET", pathIncludes: "/comments", status: 502, times: 1 }]);
    const bot = createGitHubClient(BOT, { baseUrl: github.url });
    const made = await upsertPlanComment(bot, repo, pull, "plan");
    expect(made.created).toBe(true);
    expect(github.faults.count).toBe(1);
    expect(github.comments(REPO, pull)).toHaveLength(1);
  });
});
