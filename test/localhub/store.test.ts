/** Persistence: a restarted hub serves what the previous one stored. */
import { downloadFile, modelInfo } from "@huggingface/hub";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startLocalHub } from "../../src/localhub/index.js";
import { ALICE, TOKENS, binaryBytes } from "./helpers.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("repo store", () => {
  it("survives a restart: repos, branches, visibility and LFS bytes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "localhub-store-"));
    dirs.push(dir);
    const weights = binaryBytes(5000, 9);
    const first = await startLocalHub({ dir, tokens: TOKENS });
    await first.admin.createRepo("alice/keep", { private: true });
    const sha = await first.admin.commit("alice/keep", {
      "model.safetensors": weights,
      "README.md": "# keep\n",
    });
    await first.close();

    const second = await startLocalHub({ dir, tokens: TOKENS });
    try {
      const info = await modelInfo({
        hubUrl: second.url,
        accessToken: ALICE,
        name: "alice/keep",
        additionalFields: ["sha"],
      });
      expect(info.sha).toBe(sha);
      expect(info.private).toBe(true);
      const blob = await downloadFile({
        hubUrl: second.url,
        accessToken: ALICE,
        repo: "alice/keep",
        path: "model.safetensors",
      });
      expect(Buffer.from(await blob!.arrayBuffer()).equals(Buffer.from(weights))).toBe(true);
      await expect(second.admin.createRepo("alice/keep")).rejects.toMatchObject({ status: 409 });
    } finally {
      await second.close();
    }
    // No temporary files are left behind after clean writes.
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("rejects repo ids that could escape the storage folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "localhub-store-"));
    dirs.push(dir);
    const hub = await startLocalHub({ dir });
    try {
      for (const id of ["../x", "a/..", "a/b/c", "a", ".a/b", "a/b.git"]) {
        await expect(hub.admin.createRepo(id), id).rejects.toMatchObject({ status: 400 });
      }
    } finally {
      await hub.close();
    }
  });
});

describe("startup errors", () => {
  it("says which port is taken and how to fix it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "localhub-store-"));
    dirs.push(dir);
    const first = await startLocalHub({ dir });
    try {
      await expect(startLocalHub({ dir, port: first.port })).rejects.toMatchObject({
        code: "E_USAGE",
        message: expect.stringContaining("EADDRINUSE"),
      });
    } finally {
      await first.close();
    }
  });

  it("refuses tokens the client would refuse", async () => {
    const dir = await mkdtemp(join(tmpdir(), "localhub-store-"));
    dirs.push(dir);
    await expect(startLocalHub({ dir, tokens: [{ token: "abc", user: "x" }] })).rejects.toMatchObject({
      code: "E_USAGE",
    });
  });

  it("never adopts a non-empty folder that is not its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "localhub-store-"));
    dirs.push(dir);
    await writeFile(join(dir, "precious.txt"), "keep me");
    await expect(startLocalHub({ dir })).rejects.toMatchObject({ code: "E_USAGE" });
    expect(await readFile(join(dir, "precious.txt"), "utf8")).toBe("keep me");
  });
});
