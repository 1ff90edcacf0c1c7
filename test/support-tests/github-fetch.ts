/** Plain-fetch calls to the local GitHub for its tests (octokit is not a dependency yet). */
import type { LocalGitHub } from "../support/github/index.js";

export const TOKEN = "ghp_localtesttoken";
export const REPO = "acme/merges";

export interface ApiResult {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response shapes vary per route
}

export async function api(
  github: LocalGitHub,
  method: string,
  path: string,
  options: {
    body?: unknown;
    token?: string | null;
    scheme?: "token" | "Bearer";
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { accept: "application/vnd.github+json", ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `${options.scheme ?? "token"} ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const url = path.startsWith("http") ? path : `${github.url}${path}`;
  const res = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === "" ? undefined : JSON.parse(text) };
}
