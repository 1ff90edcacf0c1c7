import { describe, expect, it } from "vitest";
import { HubmergeError } from "../../../src/errors.js";
import { DEFAULT_HUB_URL, hubConfigFrom } from "../../../src/hub/client/config.js";

function thrown(fn: () => unknown): HubmergeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HubmergeError);
    return error as HubmergeError;
  }
  throw new Error("expected a throw");
}

describe("hubConfigFrom", () => {
  it("defaults to the public Hub, anonymously", () => {
    expect(hubConfigFrom({ env: {} })).toEqual({ hubUrl: DEFAULT_HUB_URL });
    expect(hubConfigFrom()).toEqual({ hubUrl: "https://huggingface.co" });
  });

  it("reads HF_ENDPOINT and HF_TOKEN; flags win", () => {
    const env = { HF_ENDPOINT: "http://127.0.0.1:8080/", HF_TOKEN: "hf_from_env" };
    expect(hubConfigFrom({ env })).toEqual({ hubUrl: "http://127.0.0.1:8080", token: "hf_from_env" });
    expect(
      hubConfigFrom({ env, flagUrl: "https://hub.example.com/mirror//", flagToken: "hf_from_flag" }),
    ).toEqual({
      hubUrl: "https://hub.example.com/mirror",
      token: "hf_from_flag",
    });
    expect(hubConfigFrom({ env: { HF_TOKEN: "  " } })).toEqual({ hubUrl: DEFAULT_HUB_URL });
  });

  it("refuses a token that is not hf_… without echoing it", () => {
    const error = thrown(() => hubConfigFrom({ flagToken: "ghp_secret_value_1234" }));
    expect(error.code).toBe("E_HUB_AUTH");
    expect(error.message).toContain("--token");
    expect(error.format()).not.toContain("ghp_secret_value_1234");
    expect(thrown(() => hubConfigFrom({ env: { HF_TOKEN: "secret" } })).message).toContain("HF_TOKEN");
  });

  it("refuses URLs that are not http(s) or carry credentials", () => {
    expect(thrown(() => hubConfigFrom({ flagUrl: "ftp://x" })).code).toBe("E_USAGE");
    expect(thrown(() => hubConfigFrom({ flagUrl: "not a url" })).code).toBe("E_USAGE");
    expect(thrown(() => hubConfigFrom({ flagUrl: "https://u:hf_pw@host" })).format()).not.toContain("hf_pw");
  });
});
