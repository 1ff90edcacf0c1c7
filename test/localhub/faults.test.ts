/** Fault injection: error statuses, 429 with Retry-After, cut and slow bodies, seeded rates. */
import { downloadFile, modelInfo, uploadFiles, type HubApiError } from "@huggingface/hub";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FaultInjector, type FaultRequest } from "../../src/localhub/faults.js";
import { ALICE, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
const weights = binaryBytes(200_000, 11);

beforeAll(async () => {
  t = await startTestHub();
  await t.hub.admin.createRepo("alice/m");
  await t.hub.admin.commit("alice/m", { "model.safetensors": weights, "config.json": '{"a": 1}' });
});
afterEach(() => {
  t.hub.faults.clear();
  t.hub.faults.resetCounts();
});
afterAll(() => t.stop());

const info = () => modelInfo({ hubUrl: t.hub.url, name: "alice/m", accessToken: ALICE });
const download = async () => {
  const blob = await downloadFile({ hubUrl: t.hub.url, repo: "alice/m", path: "model.safetensors" });
  return new Uint8Array(await blob!.arrayBuffer());
};

describe("status faults", () => {
  it("a 500 once: the first matching request fails, the next succeeds, and both are logged", async () => {
    t.hub.faults.set([{ kind: "status500", times: 1, match: { pathIncludes: "/api/models/alice/m" } }]);
    t.hub.requests.clear();
    const error = (await info().catch((e: unknown) => e)) as HubApiError;
    expect(error.statusCode).toBe(500);
    expect((await info()).name).toBe("alice/m");
    expect(t.hub.faults.counts).toMatchObject({ status500: 1, total: 1 });
    expect(t.hub.requests.entries.map((r) => [r.status, r.fault])).toEqual([
      [500, "status500"],
      [200, undefined],
    ]);
  });

  it("503 and 429 with Retry-After", async () => {
    t.hub.faults.set([
      { kind: "rate429", times: 1, retryAfterSeconds: 2 },
      { kind: "status503", times: 1 },
    ]);
    const limited = await fetch(`${t.hub.url}/api/models/alice/m`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("2");
    expect(((await info().catch((e: unknown) => e)) as HubApiError).statusCode).toBe(503);
    expect((await info()).name).toBe("alice/m");
    expect(t.hub.faults.counts).toMatchObject({ rate429: 1, status503: 1, total: 2 });
  });

  it("a failed LFS upload leaves the branch untouched", async () => {
    t.hub.faults.set([{ kind: "status500", match: { method: "PUT" } }]);
    const before = t.hub.admin.head("alice/m");
    const upload = uploadFiles({
      hubUrl: t.hub.url,
      accessToken: ALICE,
      repo: "alice/m",
      useXet: false,
      files: [{ path: "other.safetensors", content: new Blob([binaryBytes(1000, 99)]) }],
    });
    await expect(upload).rejects.toThrow();
    expect(t.hub.admin.head("alice/m")).toBe(before);
  });
});

describe("body faults", () => {
  it("cutBody sends headers and half the body, then drops the connection", async () => {
    // Only the full download, not the client's `Range: bytes=0-0` probe before it.
    const fullDownload = (req: FaultRequest) =>
      req.path.endsWith("model.safetensors") && req.range === undefined;
    t.hub.faults.set([{ kind: "cutBody", times: 1, match: fullDownload }]);
    const outcome = await download().then(
      (bytes) => bytes.byteLength,
      (e: unknown) => e,
    );
    // The client either throws (connection closed early) or sees a short body.
    if (typeof outcome === "number") expect(outcome).toBeLessThan(weights.byteLength);
    else expect(outcome).toBeInstanceOf(Error);
    expect(t.hub.faults.counts.cutBody).toBe(1);
    expect(Buffer.from(await download()).equals(Buffer.from(weights))).toBe(true);
  });

  it("cutBody on a JSON API answer breaks the client's parse", async () => {
    t.hub.faults.set([{ kind: "cutBody", times: 1, match: { pathIncludes: "/api/" } }]);
    await expect(info()).rejects.toThrow();
  });

  it("slowBody trickles the bytes but delivers them intact", async () => {
    t.hub.faults.set([
      { kind: "slowBody", times: 1, chunkBytes: 2, delayMs: 15, match: { pathIncludes: "config.json" } },
    ]);
    const started = Date.now();
    const res = await fetch(`${t.hub.url}/alice/m/resolve/main/config.json`);
    expect(await res.text()).toBe('{"a": 1}');
    // 8 bytes in 2-byte pieces: at least three 15 ms pauses before the last piece.
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });
});

describe("rules", () => {
  const request = (path: string, method = "GET"): FaultRequest => ({
    method,
    path,
    url: path,
    range: undefined,
    headers: {},
  });

  it("rates draw from a seeded generator: same seed, same faulted requests", () => {
    const pattern = (seed: number) => {
      const faults = new FaultInjector([{ kind: "status500", rate: 0.5 }], seed);
      return Array.from({ length: 40 }, (_, i) => faults.decide(request(`/r/${i}`)) !== undefined);
    };
    expect(pattern(42)).toEqual(pattern(42));
    expect(pattern(42)).not.toEqual(pattern(43));
    const hits = pattern(42).filter(Boolean).length;
    expect(hits).toBeGreaterThan(8);
    expect(hits).toBeLessThan(32);
  });

  it("predicates, method filters and `times` select requests", () => {
    const faults = new FaultInjector([
      { kind: "status503", match: (req) => req.path.endsWith(".json"), times: 2 },
      { kind: "cutBody", match: { method: "head" } },
    ]);
    const kinds = [
      request("/a.json"),
      request("/b.bin"),
      request("/c.json"),
      request("/d.json"),
      request("/e.bin", "HEAD"),
    ].map((req) => faults.decide(req)?.kind);
    expect(kinds).toEqual(["status503", undefined, "status503", undefined, "cutBody"]);
    expect(() => faults.set([{ kind: "status500", rate: 2 }])).toThrow(RangeError);
  });
});
