/**
 * A `fetch` that retries what is safe to retry. `@huggingface/hub` does not retry anything, so
 * every Hub call hubmerge makes goes through this: network errors, 5xx, 408 and 429 are retried
 * with exponential backoff and full jitter (429/503 honour `Retry-After`), but only for requests
 * that can be repeated without effect — reads, content-addressed LFS uploads and the LFS batch /
 * preupload / paths-info POSTs. The commit POST and repo creation are never repeated here: the
 * publisher checks whether a commit landed instead.
 *
 * Small response bodies of retryable requests are read inside the retry loop, so a connection
 * cut in the middle of a JSON answer is retried too (the library would otherwise see "terminated").
 */

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  method: string;
  /** Without the query string (upload URLs carry signatures). */
  url: string;
  /** `HTTP 503` or `network error: …`. */
  reason: string;
}

export interface RetryOptions {
  /** Retries after the first try (default 6). */
  retries?: number;
  /** First backoff ceiling (default 500 ms), doubled per retry up to maxDelayMs (default 20 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured (default 60 s); longer values are capped. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
  /** Response bodies up to this size are read (and retried) here; 0 disables (default 16 MiB). */
  bufferLimit?: number;
}

export interface RetryingFetchOptions extends RetryOptions {
  /** The fetch underneath (default: the global one). */
  fetch?: typeof fetch;
}

const DEFAULTS = {
  retries: 6,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  bufferLimit: 16 * 1024 * 1024,
};

export function createRetryingFetch(opts: RetryingFetchOptions = {}): typeof fetch {
  const base = opts.fetch ?? globalThis.fetch;
  const settings = { ...DEFAULTS, ...definedOnly(opts) };
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;

  const retryingFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = describeRequest(input, init);
    const retryable =
      request.replayable && isRetryableHubRequest(request.method, request.url, request.contentType);
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    for (let attempt = 0; ; attempt++) {
      const canRetry = retryable && attempt < settings.retries;
      const backoff = () => fullJitter(attempt, settings.baseDelayMs, settings.maxDelayMs, random);
      const wait = async (delayMs: number, reason: string) => {
        opts.onRetry?.({
          attempt: attempt + 1,
          delayMs,
          method: request.method,
          url: request.safeUrl,
          reason,
        });
        await sleep(delayMs, signal ?? undefined);
      };
      let response: Response;
      try {
        response = await base(input, init);
      } catch (error) {
        if (!canRetry || signal?.aborted || isAbortError(error)) throw error;
        await wait(backoff(), `network error: ${errorText(error)}`);
        continue;
      }
      if (canRetry && isRetryableStatus(response.status)) {
        const retryAfter = parseRetryAfter(response.headers.get("Retry-After"), Date.now());
        await response.body?.cancel().catch(() => undefined);
        const delay = retryAfter === undefined ? backoff() : Math.min(retryAfter, settings.maxRetryAfterMs);
        await wait(delay, `HTTP ${response.status}`);
        continue;
      }
      if (!retryable || !shouldBuffer(request.method, response, settings.bufferLimit)) return response;
      try {
        return await bufferedCopy(response);
      } catch (error) {
        if (!canRetry || signal?.aborted || isAbortError(error)) throw error;
        await wait(backoff(), `network error while reading the body: ${errorText(error)}`);
      }
    }
  };
  return retryingFetch as typeof fetch;
}

/**
 * Whether repeating the request cannot change anything: reads, PUTs (LFS uploads are
 * content-addressed, settings are absolute) and the Hub's pure-query / LFS-protocol POSTs.
 */
export function isRetryableHubRequest(method: string, url: string, contentType: string | null): boolean {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD" || upper === "PUT" || upper === "OPTIONS") return true;
  if (upper !== "POST") return false;
  const path = pathOf(url);
  if (COMMIT_PATH.test(path) || path.endsWith("/api/repos/create")) return false;
  if (QUERY_POST_PATH.test(path) || path.endsWith(".git/info/lfs/objects/batch")) return true;
  // Multipart completion: its URL is the Hub's choice, but it speaks the LFS media type.
  return contentType?.toLowerCase().startsWith("application/vnd.git-lfs+json") ?? false;
}

const COMMIT_PATH = /\/api\/(?:models|datasets|spaces)\/[^/]+(?:\/[^/]+)?\/commit\/[^/]+$/;
const QUERY_POST_PATH =
  /\/api\/(?:models|datasets|spaces)\/[^/]+(?:\/[^/]+)?\/(?:preupload|paths-info)\/[^/]+$/;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP-date; undefined if absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}

function fullJitter(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

interface RequestFacts {
  method: string;
  url: string;
  safeUrl: string;
  contentType: string | null;
  replayable: boolean;
}

function describeRequest(input: RequestInfo | URL, init: RequestInit | undefined): RequestFacts {
  const isRequest = typeof Request !== "undefined" && input instanceof Request;
  const url = isRequest ? input.url : String(input);
  const method = (init?.method ?? (isRequest ? input.method : "GET")).toUpperCase();
  const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
  const body = init?.body ?? (isRequest ? input.body : undefined);
  return {
    method,
    url,
    safeUrl: url.split("?")[0] ?? url,
    contentType: headers.get("Content-Type"),
    replayable: isReplayableBody(body),
  };
}

/** Streams are consumed by the first try; everything else can be sent again. */
function isReplayableBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === "string") return true;
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  return body instanceof URLSearchParams || body instanceof FormData;
}

function shouldBuffer(method: string, response: Response, limit: number): boolean {
  if (limit <= 0 || method === "HEAD" || response.body === null) return false;
  if (response.status === 204 || response.status === 304) return false;
  const length = response.headers.get("Content-Length");
  if (length !== null) return /^\d+$/.test(length) && Number(length) <= limit;
  return response.headers.get("Content-Type")?.includes("json") ?? false;
}

/** Reads the whole body now (a cut connection throws here, inside the retry loop). */
async function bufferedCopy(response: Response): Promise<Response> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headers = new Headers(response.headers);
  headers.delete("Content-Encoding");
  headers.set("Content-Length", String(bytes.byteLength));
  const copy = new Response(bytes, { status: response.status, statusText: response.statusText, headers });
  // Error messages quote the URL of the response.
  Object.defineProperty(copy, "url", { value: response.url });
  return copy;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split("?")[0] ?? url;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
