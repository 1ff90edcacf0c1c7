import { HubApiError } from "@huggingface/hub";
import { describe, expect, it } from "vitest";
import { HubmergeError } from "../../../src/errors.js";
import { HubErrorCodes } from "../../../src/hub/client/error-codes.js";
import {
  GATED_HINT,
  hubFailureError,
  redactToken,
  toHubmergeError,
  type HubErrorContext,
} from "../../../src/hub/client/errors.js";

const TOKEN = "hf_very_secret_token_42";
const ctx: HubErrorContext = {
  action: "reading config.json",
  repo: "acme/model",
  model: "acme/model@v1",
  revision: "v1",
  hubUrl: "https://hub.test",
  token: TOKEN,
};

function text(error: HubmergeError): string {
  return `${error.format()} ${error.stack}`;
}

describe("hubFailureError", () => {
  it("maps the Hub's error codes", () => {
    const gated = hubFailureError({ status: 403, errorCode: "GatedRepo" }, ctx);
    expect(gated.code).toBe("E_HUB_AUTH");
    expect(gated.hint).toContain(GATED_HINT);
    expect(gated.hint).toContain("https://hub.test/acme/model");
    expect(gated.where.model).toBe("acme/model@v1");

    const repo = hubFailureError({ status: 401, errorCode: "RepoNotFound" }, { ...ctx, token: undefined });
    expect(repo.code).toBe("E_HUB_NOT_FOUND");
    expect(repo.message).toContain("acme/model");
    expect(repo.message).toContain("no token was given");

    const revision = hubFailureError({ status: 404, errorCode: "RevisionNotFound" }, ctx);
    expect(revision.code).toBe("E_HUB_NOT_FOUND");
    expect(revision.message).toContain("revision v1");

    const entry = hubFailureError(
      { status: 404, errorCode: "EntryNotFound" },
      { ...ctx, path: "a.safetensors" },
    );
    expect(entry.code).toBe("E_HUB_NOT_FOUND");
    expect(entry.message).toContain("a.safetensors");
  });

  it("maps bare statuses", () => {
    expect(hubFailureError({ status: 401 }, ctx).code).toBe("E_HUB_AUTH");
    expect(hubFailureError({ status: 401 }, { ...ctx, token: undefined }).hint).toContain("HF_TOKEN");
    expect(hubFailureError({ status: 403 }, ctx).code).toBe("E_HUB_AUTH");
    expect(hubFailureError({ status: 404 }, ctx).code).toBe("E_HUB_NOT_FOUND");
    const busy = hubFailureError({ status: 503, serverMessage: "overloaded" }, ctx);
    expect(busy.code).toBe("E_NETWORK");
    expect(busy.message).toContain("503");
    expect(busy.message).toContain("overloaded");
    expect(hubFailureError({ status: 429 }, ctx).code).toBe("E_NETWORK");
  });

  it("never lets the token through, even when the server echoes it", () => {
    for (const failure of [
      { status: 401, serverMessage: `bad token ${TOKEN}` },
      { status: 500, serverMessage: `Authorization: Bearer ${TOKEN}` },
      { status: 403, errorCode: "GatedRepo", serverMessage: TOKEN },
    ]) {
      expect(text(hubFailureError(failure, ctx))).not.toContain(TOKEN);
    }
  });
});

describe("toHubmergeError", () => {
  it("uses the X-Error-Code a wrapped fetch recorded", async () => {
    const codes = new HubErrorCodes();
    const fetch = codes.wrap(
      async () =>
        new Response('{"error":"Invalid rev id"}', {
          status: 404,
          headers: { "X-Error-Code": "RevisionNotFound", "X-Request-Id": "req-1" },
        }),
    );
    await fetch("https://hub.test/api/models/acme/model/revision/v1");
    const apiError = new HubApiError(
      "https://hub.test/api/models/acme/model/revision/v1",
      404,
      "req-1",
      "Invalid rev id",
    );
    const error = toHubmergeError(apiError, ctx, codes) as HubmergeError;
    expect(error.code).toBe("E_HUB_NOT_FOUND");
    expect(error.message).toContain("revision v1");
  });

  it("turns network failures into E_NETWORK and passes aborts through", () => {
    const network = toHubmergeError(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }), ctx);
    expect(network).toBeInstanceOf(HubmergeError);
    expect((network as HubmergeError).code).toBe("E_NETWORK");
    expect((network as HubmergeError).message).toContain("ECONNREFUSED");
    const abort = new DOMException("stop", "AbortError");
    expect(toHubmergeError(abort, ctx)).toBe(abort);
  });

  it("redacts HubmergeErrors from deeper down", () => {
    const inner = new HubmergeError("E_IO", `oops ${TOKEN}`, { hint: `see ${TOKEN}` });
    expect(text(toHubmergeError(inner, ctx) as HubmergeError)).not.toContain(TOKEN);
  });

  it("redactToken hides the token and bearer headers", () => {
    expect(redactToken(`a ${TOKEN} b Bearer xyz`, TOKEN)).toBe("a hf_*** b Bearer ***");
  });
});
