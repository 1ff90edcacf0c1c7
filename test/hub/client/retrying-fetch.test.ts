import { describe, expect, it } from "vitest";
import {
  createRetryingFetch,
  isRetryableHubRequest,
  parseRetryAfter,
  type RetryInfo,
} from "../../../src/hub/client/retrying-fetch.js";

type Answer = Response | Error | (() => Response);

/** A fake fetch that answers from a script and records what it was asked. */
function scripted(answers: Answer[]) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    const next = answers.shift();
    if (next === undefined) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next() : next;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function setup(answers: Answer[], retries = 3) {
  const script = scripted(answers);
  const sleeps: number[] = [];
  const retriesSeen: RetryInfo[] = [];
  const fetch = createRetryingFetch({
    fetch: script.fetch,
    retries,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    onRetry: (info) => retriesSeen.push(info),
  });
  return { fetch, calls: script.calls, sleeps, retriesSeen };
}

const API = "http://hub.test/api/models/alice/m";

/** A body that sends some bytes, then fails like a reset connection. */
function cutResponse(): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"sha":'));
      controller.error(new TypeError("terminated"));
    },
  });
  return new Response(stream, { status: 200, headers: { "Content-Type": "application/json" } });
}

describe("createRetryingFetch", () => {
  it("retries 5xx and network errors on GET with full-jitter backoff", async () => {
    const s = setup([new Response("", { status: 503 }), new TypeError("fetch failed"), new Response("ok")]);
    const response = await s.fetch(`${API}?expand=sha`);
    expect(await response.text()).toBe("ok");
    expect(s.calls).toHaveLength(3);
    expect(s.sleeps).toEqual([50, 100]); // random 0.5 × min(1000, 100·2^attempt)
    expect(s.retriesSeen.map((r) => r.reason)).toEqual(["HTTP 503", "network error: fetch failed"]);
    expect(s.retriesSeen[0]!.url).toBe(API); // no query string in reports
  });

  it("honours Retry-After in seconds and as an HTTP date, capped", async () => {
    const date = new Date(Date.now() + 3000).toUTCString();
    const s = setup([
      new Response("", { status: 429, headers: { "Retry-After": "2" } }),
      new Response("", { status: 429, headers: { "Retry-After": date } }),
      new Response("", { status: 429, headers: { "Retry-After": "3600" } }),
      new Response("done"),
    ]);
    expect(await (await s.fetch(API)).text()).toBe("done");
    expect(s.sleeps[0]).toBe(2000);
    expect(s.sleeps[1]).toBeGreaterThan(1000);
    expect(s.sleeps[1]).toBeLessThanOrEqual(3000);
    expect(s.sleeps[2]).toBe(60_000);
  });

  it("returns the last answer when the retries are spent", async () => {
    const s = setup(
      [500, 500, 500].map((status) => new Response("", { status })),
      2,
    );
    expect((await s.fetch(API)).status).toBe(500);
    expect(s.calls).toHaveLength(3);
  });

  it("never retries the commit POST or repo creation", async () => {
    const commit = setup([new Response("", { status: 500 }), new Response("ok")]);
    const body = '{"key":"header"}';
    expect((await commit.fetch(`${API}/commit/main`, { method: "POST", body })).status).toBe(500);
    expect(commit.calls).toHaveLength(1);
    const create = setup([new TypeError("fetch failed"), new Response("ok")]);
    await expect(
      create.fetch("http://hub.test/api/repos/create", { method: "POST", body: "{}" }),
    ).rejects.toThrow("fetch failed");
    expect(create.calls).toHaveLength(1);
  });

  it("retries preupload, paths-info, the LFS batch and replayable PUT uploads", async () => {
    for (const [url, init] of [
      [`${API}/preupload/main`, { method: "POST", body: "{}" }],
      [`${API}/paths-info/main`, { method: "POST", body: "{}" }],
      ["http://hub.test/alice/m.git/info/lfs/objects/batch", { method: "POST", body: "{}" }],
      ["http://hub.test/_lfs/abc/3?sig=x", { method: "PUT", body: new Blob(["abc"]) }],
      ["http://hub.test/_lfs/abc/3/part/1", { method: "PUT", body: new Uint8Array(3) }],
    ] as const) {
      const s = setup([new Response("", { status: 502 }), new Response("ok")]);
      expect((await s.fetch(url, init)).status, url).toBe(200);
      expect(s.calls, url).toHaveLength(2);
    }
  });

  it("does not retry a request whose body is a stream", async () => {
    const s = setup([new Response("", { status: 503 }), new Response("ok")]);
    const body = new ReadableStream({
      start(c) {
        c.close();
      },
    });
    const init = { method: "PUT", body, duplex: "half" } as RequestInit;
    expect((await s.fetch("http://hub.test/_lfs/x/1", init)).status).toBe(503);
    expect(s.calls).toHaveLength(1);
  });

  it("retries a JSON answer whose body was cut, and keeps the response URL", async () => {
    const s = setup([cutResponse, () => Response.json({ sha: "abc" })]);
    const response = await s.fetch(API);
    expect(await response.json()).toEqual({ sha: "abc" });
    expect(s.calls).toHaveLength(2);
    expect(s.retriesSeen[0]!.reason).toMatch(/while reading the body/);
  });

  it("stops when the caller aborts", async () => {
    const controller = new AbortController();
    const script = scripted([new Response("", { status: 503 }), new Response("ok")]);
    const fetch = createRetryingFetch({
      fetch: script.fetch,
      sleep: async () => {
        controller.abort();
        throw new DOMException("aborted", "AbortError");
      },
    });
    await expect(fetch(API, { signal: controller.signal })).rejects.toThrow("aborted");
    expect(script.calls).toHaveLength(1);
  });
});

describe("isRetryableHubRequest", () => {
  it("classifies Hub endpoints", () => {
    expect(isRetryableHubRequest("GET", `${API}/tree/main`, null)).toBe(true);
    expect(isRetryableHubRequest("HEAD", "http://h/alice/m/resolve/main/x", null)).toBe(true);
    expect(isRetryableHubRequest("POST", `${API}/commit/main`, "application/x-ndjson")).toBe(false);
    expect(isRetryableHubRequest("POST", "http://h/api/models/gpt2/commit/main", null)).toBe(false);
    expect(isRetryableHubRequest("POST", "http://h/api/repos/create", "application/json")).toBe(false);
    expect(isRetryableHubRequest("POST", "http://h/api/models/alice/commit/preupload/main", null)).toBe(true);
    expect(isRetryableHubRequest("POST", "http://h/_lfs/x/3/complete", "application/vnd.git-lfs+json")).toBe(
      true,
    );
    expect(isRetryableHubRequest("DELETE", "http://h/api/repos/delete", null)).toBe(false);
    expect(isRetryableHubRequest("POST", "http://h/api/something", "application/json")).toBe(false);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and dates, rejects junk", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 00:00:05 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-1", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
