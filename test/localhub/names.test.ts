/** Names clients send (issue 13, security 8): file paths and branch names that must be refused. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBranchName, checkFilePath } from "../../src/localhub/names.js";
import { ALICE, startTestHub, type TestHub } from "./helpers.js";

describe("file paths", () => {
  const refused = [
    "..\\..\\x",
    "a\\b",
    "sub/.git/config",
    ".GIT/config",
    ".git/config",
    "deep/er/.Git/HEAD",
    ".git./config",
    "a/.git /b",
    "line\nbreak.txt",
    "cr\rhere",
    "tab\there",
    "del\x7f.txt",
    "c1\x85.txt",
    "evil\u202Efdp.exe",
    "isolate\u2066x",
    "mark\u200F.txt",
    "sep\u2028x",
    "lone\uD800.txt",
    "",
    "/abs",
    "a//b",
    "./a",
    "a/../b",
  ];
  it.each(refused)("refuses %j", (path) => {
    expect(() => checkFilePath(path)).toThrow(expect.objectContaining({ status: 400 }));
  });

  const accepted = [
    "model.safetensors",
    "sub/dir/config.json",
    ".gitattributes",
    ".gitignore",
    "a/.github/x.yml",
    "git/x",
    "名前/ファイル.txt",
    "emoji-😀.md",
    "...",
  ];
  it.each(accepted)("accepts %j", (path) => {
    expect(() => checkFilePath(path)).not.toThrow();
  });

  it("shows forbidden characters escaped in the message", () => {
    expect(() => checkFilePath("evil\u202Efdp.exe")).toThrow('"evil\\u202efdp.exe"');
  });
});

describe("branch names", () => {
  const refused = [
    "refs/heads/main",
    "refs/pr/1",
    "REFS/heads/x",
    "HEAD",
    "@",
    "a..b",
    "a@{1}",
    "a//b",
    "/a",
    "a/",
    "a.",
    ".hidden",
    "x/.y",
    "topic.lock",
    "x/y.lock/z",
    "has space",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "new\nline",
    "rtl\u202Eoverride",
    "0123456789abcdef0123456789abcdef01234567",
  ];
  it.each(refused)("refuses %j", (branch) => {
    expect(() => checkBranchName(branch)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it.each(["dev", "feature/x", "v1.0", "release-2024_01", "user@host"])("accepts %j", (branch) => {
    expect(() => checkBranchName(branch)).not.toThrow();
  });
});

describe("over HTTP", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    await t.hub.admin.createRepo("alice/names");
  });
  afterAll(() => t.stop());

  it("a branch cannot be named refs/heads/main", async () => {
    const res = await fetch(
      `${t.hub.url}/api/models/alice/names/branch/${encodeURIComponent("refs/heads/main")}`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${ALICE}`, "Content-Type": "application/json" },
        body: "{}",
      },
    );
    expect(res.status).toBe(400);
    const refs = (await (await fetch(`${t.hub.url}/api/models/alice/names/refs`)).json()) as {
      branches: { name: string }[];
    };
    expect(refs.branches.map((branch) => branch.name)).toEqual(["main"]);
  });

  it("a commit with a .git path at any depth is refused and changes nothing", async () => {
    const before = t.hub.admin.head("alice/names");
    for (const path of ["sub/.git/config", ".GIT/config", "..\\..\\x", "a\u202Eb"]) {
      const res = await fetch(`${t.hub.url}/api/models/alice/names/commit/main`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ALICE}`, "Content-Type": "application/x-ndjson" },
        body: [
          { key: "header", value: { summary: "sneak" } },
          { key: "file", value: { path, content: Buffer.from("x").toString("base64"), encoding: "base64" } },
        ]
          .map((line) => JSON.stringify(line))
          .join("\n"),
      });
      expect(res.status, path).toBe(400);
      // The refusal's header is plain ASCII even for a path with a bidi control.
      expect(res.headers.get("x-error-message"), path).toMatch(/^[\x20-\x7e]*$/);
    }
    expect(t.hub.admin.head("alice/names")).toBe(before);
  });
});
