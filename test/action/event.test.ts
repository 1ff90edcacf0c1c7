import { describe, expect, it } from "vitest";
import { decideIntent, type RunEvent } from "../../src/action/event.js";

const repository = { default_branch: "main" };
const pull = { number: 7 };

function event(name: string, payload: Record<string, unknown> = {}, ref?: string): RunEvent {
  return { name, payload: { repository, ...payload }, ...(ref && { ref }) };
}

describe("which events apply (an allow-list)", () => {
  it.each([
    ["push to the default branch", event("push", { ref: "refs/heads/main" })],
    ["schedule", event("schedule", {}, "refs/heads/main")],
    ["workflow_dispatch", event("workflow_dispatch", {}, "refs/heads/main")],
    ["repository_dispatch", event("repository_dispatch", { action: "other" }, "refs/heads/main")],
  ])("auto applies on %s", (_, e) => {
    expect(decideIntent("auto", e).mode).toBe("apply");
    expect(decideIntent("apply", e).mode).toBe("apply");
  });

  it.each([
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "issue_comment",
    "workflow_run",
    "merge_group",
    "some_event_github_adds_later",
  ])("auto only plans on %s, and mode: apply refuses it", (name) => {
    const e = event(name, { pull_request: pull });
    expect(decideIntent("auto", e)).toEqual({ mode: "plan", pullRequest: 7 });
    expect(() => decideIntent("apply", e)).toThrow(new RegExp(`apply refuses to run on ${name} events`));
  });

  it("plans on a push to another branch, and refuses apply there", () => {
    const e = event("push", { ref: "refs/heads/feature" });
    expect(decideIntent("auto", e).mode).toBe("plan");
    expect(() => decideIntent("apply", e)).toThrow(/push to refs\/heads\/feature/);
  });

  it("refuses apply on a push whose payload names no default branch", () => {
    const e = { name: "push", payload: { ref: "refs/heads/main" } };
    expect(decideIntent("auto", e).mode).toBe("plan");
  });

  it("plans wherever mode: plan says, on any event", () => {
    expect(decideIntent("plan", event("push", { ref: "refs/heads/main" })).mode).toBe("plan");
  });
});
