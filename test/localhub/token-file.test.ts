/** `--tokens-file` and the `tokens` option (issue 13, security 3): a strict schema. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHub } from "../../src/localhub/index.js";
import { readTokensFile } from "../../src/localhub/token-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "localhub-tokens-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SECRET = "hf_secret_value_123";

async function tokensFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

async function refusal(content: unknown): Promise<{ message: string; code: string }> {
  const path = await tokensFile(`t-${Math.random().toString(36).slice(2)}.json`, content);
  const error = await readTokensFile(path).then(
    () => undefined,
    (e: unknown) => e as { message: string; code: string },
  );
  expect(error, JSON.stringify(content)).toBeDefined();
  expect(error!.message).toContain(path);
  expect(error!.message).not.toContain(SECRET);
  return { message: error!.message, code: error!.code };
}

describe("tokens file", () => {
  it("reads a valid file", async () => {
    const path = await tokensFile("ok.json", [
      { token: "hf_a", user: "alice", orgs: ["acme"], role: "write" },
      { token: "hf_b", user: "bob", role: "read" },
    ]);
    expect(await readTokensFile(path)).toEqual([
      { token: "hf_a", user: "alice", orgs: ["acme"], role: "write" },
      { token: "hf_b", user: "bob", role: "read" },
    ]);
  });

  it("refuses orgs given as a string, naming the file and the key", async () => {
    const error = await refusal([{ token: SECRET, user: "alice", orgs: "team" }]);
    expect(error.code).toBe("E_USAGE");
    expect(error.message).toMatch(/\[0\]\.orgs: expected a list of org names/);
  });

  it("refuses unknown keys", async () => {
    const error = await refusal([{ token: SECRET, user: "alice", admin: true }]);
    expect(error.message).toMatch(/\[0\]: unknown key\(s\) admin/);
  });

  it.each([
    [[{ token: SECRET, user: "alice", role: "admin" }], /\[0\]\.role: expected "read" or "write"/],
    [[{ token: SECRET, user: 7 }], /\[0\]\.user: expected a string/],
    [[{ token: SECRET, user: "../x" }], /\[0\]\.user: expected a user or org name/],
    [[{ token: SECRET, user: "a", orgs: ["ok", 3] }], /\[0\]\.orgs\[1\]: expected a string/],
    [[{ user: "alice" }], /\[0\]\.token: expected a string/],
    [["hf_x"], /\[0\]: expected an object/],
    [{ token: SECRET, user: "alice" }, /expected a list of token objects/],
  ])("refuses wrong types: %j", async (content, pattern) => {
    expect((await refusal(content)).message).toMatch(pattern);
  });

  it("refuses tokens without hf_, without printing them", async () => {
    const error = await refusal([{ token: "secret_value_123", user: "alice" }]);
    expect(error.message).toMatch(/\[0\]\.token: must start with "hf_"/);
    expect(error.message).not.toContain("secret_value_123");
  });

  it("refuses duplicate tokens, without printing them", async () => {
    const error = await refusal([
      { token: SECRET, user: "alice" },
      { token: "hf_other", user: "carol" },
      { token: SECRET, user: "bob" },
    ]);
    expect(error.message).toMatch(/\[2\]\.token repeats the token of \[0\]/);
  });

  it("says where invalid JSON is", async () => {
    expect((await refusal("[{")).message).toMatch(/is not valid JSON/);
  });

  it("the tokens option of startLocalHub gets the same checks", async () => {
    const hubDir = await mkdtemp(join(tmpdir(), "localhub-tokens-hub-"));
    try {
      const tokens = [{ token: SECRET, user: "alice", orgs: "team" }] as unknown as [];
      await expect(startLocalHub({ dir: hubDir, tokens })).rejects.toMatchObject({
        code: "E_USAGE",
        message: expect.stringMatching(/\[0\]\.orgs/),
      });
    } finally {
      await rm(hubDir, { recursive: true, force: true });
    }
  });
});
