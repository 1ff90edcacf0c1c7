/**
 * Which Hub to talk to and with which token. Read in one place: flags win over the environment
 * (`HF_ENDPOINT`, `HF_TOKEN`, as the Python client reads them), then the public Hub.
 */
import { HubmergeError } from "../../errors.js";

export interface HubConfig {
  /** `https://huggingface.co` or a local Hub's `http://127.0.0.1:PORT`; no trailing slash. */
  hubUrl: string;
  /** An `hf_…` access token; never logged or written anywhere. */
  token?: string;
}

export const DEFAULT_HUB_URL = "https://huggingface.co";

/** The public Hub, anonymously. */
export const PUBLIC_HUB: HubConfig = { hubUrl: DEFAULT_HUB_URL };

export interface HubConfigInput {
  flagUrl?: string;
  flagToken?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export function hubConfigFrom(input: HubConfigInput = {}): HubConfig {
  const env = input.env ?? {};
  const url = nonEmpty(input.flagUrl) ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  const token = nonEmpty(input.flagToken) ?? nonEmpty(env.HF_TOKEN);
  const source = nonEmpty(input.flagToken) !== undefined ? "--token" : "HF_TOKEN";
  const config: HubConfig = { hubUrl: normalizeHubUrl(url) };
  if (token !== undefined) config.token = checkedToken(token, source);
  return config;
}

/** Validates a Hub URL and strips trailing slashes (the client appends `/api/...` itself). */
export function normalizeHubUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HubmergeError("E_USAGE", `the Hub URL ${JSON.stringify(url)} is not a URL`, {
      hint: "pass --hub-url (or HF_ENDPOINT) as http(s)://host[:port], e.g. https://huggingface.co",
    });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new HubmergeError("E_USAGE", `the Hub URL ${JSON.stringify(url)} is not http(s)`, {
      hint: "pass --hub-url (or HF_ENDPOINT) as http(s)://host[:port]",
    });
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new HubmergeError("E_USAGE", "the Hub URL may not contain credentials, a query or a fragment", {
      hint: "pass the token with --token or HF_TOKEN, and the Hub as http(s)://host[:port]",
    });
  }
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, "");
}

/** The client library refuses other forms; fail earlier, with a message that never echoes it. */
function checkedToken(token: string, source: string): string {
  if (!token.startsWith("hf_") || /\s/.test(token)) {
    throw new HubmergeError("E_HUB_AUTH", `the access token from ${source} is not a Hugging Face token`, {
      hint: "use a User Access Token (it starts with hf_) from https://huggingface.co/settings/tokens",
    });
  }
  return token;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
