/** Raw HTTP checks of resolve/raw: headers Python's huggingface_hub needs, and byte ranges. */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
let sha = "";
const weights = binaryBytes(1000, 5);
const weightsSha256 = createHash("sha256").update(weights).digest("hex");

beforeAll(async () => {
  t = await startTestHub();
  await t.hub.admin.createRepo("alice/m");
  sha = await t.hub.admin.commit("alice/m", {
    "model.safetensors": weights,
    "notes/read me.txt": "0123456789",
  });
});
afterAll(() => t.stop());

const url = (path: string) => `${t.hub.url}/alice/m/${path}`;

describe("HEAD resolve", () => {
  it("answers X-Repo-Commit, ETag, X-Linked-Size and X-Linked-Etag for an LFS file", async () => {
    const res = await fetch(url("resolve/main/model.safetensors"), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Repo-Commit")).toBe(sha);
    expect(res.headers.get("ETag")).toBe(`"${weightsSha256}"`);
    expect(res.headers.get("X-Linked-Etag")).toBe(`"${weightsSha256}"`);
    expect(res.headers.get("X-Linked-Size")).toBe("1000");
    expect(res.headers.get("Content-Length")).toBe("1000");
    expect(res.headers.get("Accept-Ranges")).toBe("bytes");
  });

  it("answers the git blob sha1 as ETag and no X-Linked-* for a regular file (path URL-decoded)", async () => {
    const res = await fetch(url("resolve/main/notes/read%20me.txt"), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(
      `"${createHash("sha1").update("blob 10\x000123456789").digest("hex")}"`,
    );
    expect(res.headers.get("X-Linked-Size")).toBeNull();
    expect(res.headers.get("Content-Length")).toBe("10");
  });

  it("resolves the revision by sha too", async () => {
    const res = await fetch(url(`resolve/${sha}/model.safetensors`), { method: "HEAD" });
    expect(res.headers.get("X-Repo-Commit")).toBe(sha);
  });
});

describe("ranges", () => {
  const get = (range: string) => fetch(url("resolve/main/model.safetensors"), { headers: { Range: range } });

  it.each([
    ["bytes=10-19", 10, 19],
    ["bytes=990-", 990, 999],
    ["bytes=-5", 995, 999],
    ["bytes=995-5000", 995, 999],
  ])("%s → 206 with the right bytes", async (range, start, end) => {
    const res = await get(range);
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes ${start}-${end}/1000`);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([...weights.subarray(start, end + 1)]);
  });

  it("answers 416 when unsatisfiable, and the whole file for a malformed header", async () => {
    const res = await get("bytes=1000-");
    expect(res.status).toBe(416);
    expect(res.headers.get("Content-Range")).toBe("bytes */1000");
    await res.arrayBuffer();
    const full = await get("items=0-1");
    expect(full.status).toBe(200);
    expect((await full.arrayBuffer()).byteLength).toBe(1000);
  });
});

describe("raw", () => {
  it("serves the LFS pointer for LFS files, as git stores it", async () => {
    const res = await fetch(url("raw/main/model.safetensors"));
    const text = await res.text();
    expect(text).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${weightsSha256}\nsize 1000\n`);
    expect(res.headers.get("ETag")).toBe(
      `"${createHash("sha1").update(`blob ${text.length}\0${text}`).digest("hex")}"`,
    );
  });
});
