import { describe, expect, it } from "vitest";
import { classifyHubWebhook } from "../../src/bot/hub-webhook.js";
import { hubWebhookBody, sha } from "./harness.js";

describe("classifyHubWebhook", () => {
  it("takes the new sha of refs/heads/main from a model's repo.content update", () => {
    expect(classifyHubWebhook(hubWebhookBody("acme/ft", sha(1)))).toEqual({
      kind: "update",
      model: "acme/ft",
      sha: sha(1),
    });
  });

  it("finds main among several updated refs (a tag pushed with the commit)", () => {
    const body = hubWebhookBody("acme/ft", sha(1));
    body.updatedRefs = [
      { ref: "refs/tags/v1", oldSha: null, newSha: sha(1) },
      { ref: "refs/heads/main", oldSha: sha(0), newSha: sha(1) },
    ];
    expect(classifyHubWebhook(body)).toMatchObject({ kind: "update", sha: sha(1) });
  });

  it.each([
    ["a pull request ref", hubWebhookBody("acme/ft", sha(1), { ref: "refs/pr/3" }), /refs\/pr\/3/],
    ["a deleted main", hubWebhookBody("acme/ft", null), /deleted/],
    ["a malformed sha", hubWebhookBody("acme/ft", "HEAD"), /not a commit sha/],
    ["a repo creation", hubWebhookBody("acme/ft", sha(1), { scope: "repo", action: "create" }), /scope repo/],
    ["a move", hubWebhookBody("acme/ft", sha(1), { action: "move" }), /action move/],
    ["a Space", hubWebhookBody("acme/app", sha(1), { type: "space" }), /space acme\/app is not a model/],
    ["a bad repo name", hubWebhookBody("../etc/passwd", sha(1)), /not a model id/],
    ["a body with no event", { repo: { type: "model", name: "a/b" } }, /not a Hub webhook payload/],
    ["an array", [1, 2], /not a Hub webhook payload/],
    ["null", null, /not a Hub webhook payload/],
  ])("ignores %s", (_name, body, reason) => {
    const decision = classifyHubWebhook(body);
    expect(decision.kind).toBe("ignore");
    expect(decision.kind === "ignore" && decision.reason).toMatch(reason);
  });
});
