/** The LFS batch and upload endpoints spoken directly: verification and refusals. */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
const LFS = { Accept: "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json" };

beforeAll(async () => {
  t = await startTestHub({ multipartThreshold: 1000, multipartChunkSize: 400 });
  await t.hub.admin.createRepo("alice/m");
});
afterAll(() => t.stop());

interface BatchObject {
  oid: string;
  size: number;
  actions?: { upload: { href: string; header?: Record<string, string> } };
  error?: { code: number; message: string };
}

async function batch(
  objects: { oid: string; size: number }[],
  token = ALICE,
  transfers = ["basic", "multipart", "xet"],
) {
  const res = await fetch(`${t.hub.url}/alice/m.git/info/lfs/objects/batch`, {
    method: "POST",
    headers: { ...LFS, Authorization: `Bearer ${token}` },
    body: JSON.stringify({ operation: "upload", transfers, hash_algo: "sha_256", objects }),
  });
  return { status: res.status, body: (await res.json()) as { transfer: string; objects: BatchObject[] } };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("batch", () => {
  it("never offers xet, and gives no actions for objects already stored", async () => {
    const bytes = binaryBytes(100, 1);
    await t.hub.admin.commit("alice/m", { "stored.bin": bytes });
    const { status, body } = await batch([{ oid: sha256(bytes), size: 100 }]);
    expect(status).toBe(200);
    expect(body.transfer).not.toBe("xet");
    expect(body.objects[0]?.actions).toBeUndefined();
  });

  it("plans multipart above the threshold only when the client offers it", async () => {
    const bytes = binaryBytes(1500, 2);
    const multi = (await batch([{ oid: sha256(bytes), size: 1500 }])).body.objects[0]!;
    expect(multi.actions?.upload.header?.chunk_size).toBe("400");
    expect(Object.keys(multi.actions!.upload.header!).filter((k) => /^\d+$/.test(k))).toEqual([
      "00001",
      "00002",
      "00003",
      "00004",
    ]);
    const basic = (await batch([{ oid: sha256(bytes), size: 1500 }], ALICE, ["basic"])).body.objects[0]!;
    expect(basic.actions?.upload.header).toBeUndefined();
  });

  it("needs write access", async () => {
    expect((await batch([{ oid: "a".repeat(64), size: 1 }], BOB)).status).toBe(403);
  });
});

describe("single PUT", () => {
  it("stores the object only when sha256 and size match", async () => {
    const bytes = binaryBytes(300, 3);
    const href = (await batch([{ oid: sha256(bytes), size: 300 }])).body.objects[0]!.actions!.upload.href;
    const wrong = await fetch(href, { method: "PUT", body: binaryBytes(300, 4) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/hashes to sha256/);
    const short = await fetch(href, { method: "PUT", body: bytes.subarray(0, 10) });
    expect(short.status).toBe(400);
    await short.arrayBuffer();
    const ok = await fetch(href, { method: "PUT", body: bytes });
    expect(ok.status).toBe(200);
    expect((await batch([{ oid: sha256(bytes), size: 300 }])).body.objects[0]!.actions).toBeUndefined();
  });

  it("refuses a tampered upload URL", async () => {
    const bytes = binaryBytes(50, 5);
    const href = (await batch([{ oid: sha256(bytes), size: 50 }])).body.objects[0]!.actions!.upload.href;
    const res = await fetch(href.replace(/sig=[0-9a-f]/, "sig=g"), { method: "PUT", body: bytes });
    expect(res.status).toBe(403);
  });
});

describe("multipart", () => {
  it("checks each part's ETag and the assembled sha256", async () => {
    const bytes = binaryBytes(1200, 6);
    const upload = (await batch([{ oid: sha256(bytes), size: 1200 }])).body.objects[0]!.actions!.upload;
    const partUrls = Object.entries(upload.header!).filter(([k]) => /^\d+$/.test(k));
    const etags: string[] = [];
    for (const [i, [, partUrl]] of partUrls.entries()) {
      const res = await fetch(partUrl, { method: "PUT", body: bytes.subarray(i * 400, (i + 1) * 400) });
      expect(res.status).toBe(200);
      etags.push(res.headers.get("ETag")!);
    }
    const complete = (parts: { partNumber: number; etag: string }[]) =>
      fetch(upload.href, {
        method: "POST",
        headers: LFS,
        body: JSON.stringify({ oid: sha256(bytes), parts }),
      });
    const badEtag = await complete(
      etags.map((etag, i) => ({ partNumber: i + 1, etag: i === 1 ? '"00"' : etag })),
    );
    expect(badEtag.status).toBe(400);
    await badEtag.arrayBuffer();
    const missing = await complete(etags.slice(1).map((etag, i) => ({ partNumber: i + 2, etag })));
    expect(missing.status).toBe(400);
    await missing.arrayBuffer();
    const ok = await complete(etags.map((etag, i) => ({ partNumber: i + 1, etag })));
    expect(ok.status).toBe(200);
    const sha = await t.hub.admin.commit("alice/m", {}, "noop");
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("rejects a part of the wrong size", async () => {
    const bytes = binaryBytes(1100, 7);
    const upload = (await batch([{ oid: sha256(bytes), size: 1100 }])).body.objects[0]!.actions!.upload;
    const res = await fetch(upload.header!["00001"]!, { method: "PUT", body: bytes.subarray(0, 399) });
    expect(res.status).toBe(400);
  });
});
