/** The local Hub's measurable link: pacing (token buckets, latency, byte counts) and CDN mode. */
import { downloadFile } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinkPacer, TokenBucket } from "../../src/localhub/index.js";
import { ALICE, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

describe("TokenBucket", () => {
  it("schedules takers one after another at the rate, with a 20 ms burst", () => {
    const bucket = new TokenBucket(1000); // 1 byte per ms
    expect(bucket.reserve(100, 0)).toBe(80);
    expect(bucket.reserve(100, 0)).toBe(180);
    // Idle time is not saved up beyond the burst.
    expect(bucket.reserve(100, 1000)).toBe(60);
    expect(bucket.reserve(10, 5000)).toBe(0);
  });

  it("refuses rates that are not positive", () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new LinkPacer({ total: -1 })).toThrow(RangeError);
    expect(() => new LinkPacer({ latencyMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("a paced hub", () => {
  let t: TestHub;
  const weights = binaryBytes(300_000, 5);
  beforeAll(async () => {
    t = await startTestHub({ pacing: { perConnection: 50e6, total: 100e6, latencyMs: 1 } });
    await t.hub.admin.createRepo("alice/paced");
    await t.hub.admin.commit("alice/paced", { "model.safetensors": weights });
  });
  afterAll(() => t.stop());

  it("serves the same bytes and counts what it sent", async () => {
    t.hub.link.resetCounts();
    const url = `${t.hub.url}/alice/paced/resolve/main/model.safetensors`;
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expect(Buffer.from(whole).equals(weights)).toBe(true);
    const part = await fetch(url, { headers: { Range: "bytes=1000-1999" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(weights.subarray(1000, 2000))).toBe(true);
    expect(t.hub.link.bytesSent).toBe(weights.byteLength + 1000);
    expect(t.hub.link.current).toEqual({ perConnection: 50e6, total: 100e6, latencyMs: 1 });
  });

  it("paces uploads too: what the LFS endpoints read is counted", async () => {
    const { uploadFile } = await import("@huggingface/hub");
    t.hub.link.resetCounts();
    await uploadFile({
      repo: "alice/paced",
      file: { path: "other.safetensors", content: new Blob([binaryBytes(200_000, 6)]) },
      hubUrl: t.hub.url,
      accessToken: ALICE,
      useXet: false,
    });
    expect(t.hub.link.bytesReceived).toBe(200_000);
  });
});

describe("CDN mode", () => {
  let t: TestHub;
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const weights = binaryBytes(200_000, 9);
  beforeAll(async () => {
    t = await startTestHub({ cdn: { ttlMs: 60_000, now: () => clock } });
    await t.hub.admin.createRepo("alice/cdn", { private: true });
    await t.hub.admin.commit("alice/cdn", { "model.safetensors": weights, "config.json": "{}" });
  });
  afterAll(() => t.stop());

  const resolveUrl = () => `${t.hub.url}/alice/cdn/resolve/main/model.safetensors`;
  const auth = { Authorization: `Bearer ${ALICE}` };

  it("answers resolve of an LFS file with a 302 to a signed URL on another origin, with the Hub's headers", async () => {
    const answer = await fetch(resolveUrl(), { headers: auth, redirect: "manual" });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get("Location")!);
    expect(location.origin).toBe(t.hub.cdn!.url);
    expect(location.origin).not.toBe(new URL(t.hub.url).origin);
    expect(location.searchParams.get("Expires")).toMatch(/^\d+$/);
    expect(answer.headers.get("X-Linked-Size")).toBe(String(weights.byteLength));
    expect(answer.headers.get("X-Linked-Etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(answer.headers.get("ETag")).toBe(answer.headers.get("X-Linked-Etag"));
    expect(answer.headers.get("X-Repo-Commit")).toBe(t.hub.admin.head("alice/cdn"));
    // Small regular files are still served directly; a private repo still needs the token.
    expect((await fetch(`${t.hub.url}/alice/cdn/resolve/main/config.json`, { headers: auth })).status).toBe(
      200,
    );
    expect((await fetch(resolveUrl(), { redirect: "manual" })).status).toBe(401);
  });

  it("serves ranges from a valid signature and refuses altered or expired ones", async () => {
    const answer = await fetch(resolveUrl(), { headers: auth, redirect: "manual" });
    const signed = answer.headers.get("Location")!;
    const part = await fetch(signed, { headers: { Range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(weights.subarray(10, 20))).toBe(true);
    const altered = signed.replace(/Expires=(\d+)/, (_, e: string) => `Expires=${Number(e) + 1000}`);
    expect((await fetch(altered)).status).toBe(403);
    clock += 61_000;
    const expired = await fetch(signed);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as { error: string }).error).toContain("expired");
  });

  it("the unmodified client downloads through the redirect", async () => {
    const blob = await downloadFile({
      repo: "alice/cdn",
      path: "model.safetensors",
      hubUrl: t.hub.url,
      accessToken: ALICE,
    });
    expect(Buffer.from(await blob!.arrayBuffer()).equals(weights)).toBe(true);
    const cdnSaw = t.hub.cdn!.requests.flatMap((r) => Object.values(r.headers).flat());
    expect(cdnSaw.some((value) => String(value).includes(ALICE))).toBe(false);
  });
});
