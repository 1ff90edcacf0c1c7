import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHubmergeError, type HubmergeError } from "../src/errors.js";
import { formatModelRef, parseModelRef, repoIdProblem, sameModelRef } from "../src/model-ref.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hubmerge-model-ref-"));
  await mkdir(join(dir, "models", "base"), { recursive: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rejectsWith(raw: string, message: RegExp): HubmergeError {
  let caught: unknown;
  try {
    parseModelRef(raw, dir);
  } catch (error) {
    caught = error;
  }
  if (!isHubmergeError(caught, "E_MANIFEST")) throw new Error(`expected E_MANIFEST, got ${String(caught)}`);
  expect(caught.message).toMatch(message);
  return caught;
}

function rejects(raw: string, message: RegExp): void {
  let caught: unknown;
  try {
    parseModelRef(raw, dir);
  } catch (error) {
    caught = error;
  }
  expect(isHubmergeError(caught, "E_MANIFEST")).toBe(true);
  if (isHubmergeError(caught)) {
    expect(caught.message).toMatch(message);
    expect(caught.hint ?? "").not.toBe("");
  }
}

describe("parseModelRef: Hub references", () => {
  it("reads org/name", () => {
    expect(parseModelRef("mistralai/Mistral-7B-v0.1", dir)).toEqual({
      raw: "mistralai/Mistral-7B-v0.1",
      kind: "hub",
      repo: "mistralai/Mistral-7B-v0.1",
    });
  });

  it("reads org/name@revision", () => {
    expect(parseModelRef("org/math-ft@4f1c2e9a", dir)).toEqual({
      raw: "org/math-ft@4f1c2e9a",
      kind: "hub",
      repo: "org/math-ft",
      revision: "4f1c2e9a",
    });
    expect(parseModelRef("org/x@refs/pr/1", dir).revision).toBe("refs/pr/1");
  });

  it("accepts a legacy id without an owner", () => {
    expect(parseModelRef("gpt2", dir)).toMatchObject({ kind: "hub", repo: "gpt2" });
    expect(parseModelRef("gpt2@main", dir)).toMatchObject({ kind: "hub", repo: "gpt2", revision: "main" });
  });

  it("accepts a part of exactly 96 characters and rejects 97", () => {
    expect(parseModelRef(`org/${"a".repeat(96)}`, dir).kind).toBe("hub");
    rejects(`org/${"a".repeat(97)}`, /longer than 96/);
  });

  it.each([
    ["org/a--b", /`--`/],
    ["org/a..b", /`--` or `\.\.`/],
    ["org/-name", /start or end/],
    ["org/name.", /start or end/],
    ["org/na me", /letters, digits/],
    ["a/b/c", /more than one `\/`/],
    ["org/", /empty part/],
    ["org/name.git", /\.git/],
    ["org/name@", /bad revision: it is empty/],
    ["org/name@a@b", /more than one `@`/],
    ["org/name@a b", /bad revision/],
    ["org/name@../x", /bad revision/],
  ])("rejects %s", (raw, message) => {
    rejects(raw, message);
  });

  it("reads model+lora as a model with an adapter, each a Hub repo or a folder", () => {
    const ref = parseModelRef("org/base@v1+org/adapter@abc", "/m");
    expect(ref).toMatchObject({
      raw: "org/base@v1+org/adapter@abc",
      kind: "hub",
      repo: "org/base",
      revision: "v1",
    });
    expect(ref.lora).toMatchObject({ kind: "hub", repo: "org/adapter", revision: "abc" });
    expect(parseModelRef("./base+./lora", "/m").lora).toMatchObject({ kind: "local", path: "/m/lora" });
    rejects("org/base+", /must be `model\+adapter`/);
    rejects("org/a+org/b+org/c", /one model and one LoRA adapter/);
  });

  it("rejects URLs and suggests the repo id", () => {
    rejects("https://huggingface.co/org/name", /is a URL/);
  });

  it("rejects empty and padded references", () => {
    rejects("", /empty/);
    rejects(" org/name", /spaces/);
  });
});

describe("parseModelRef: local folders", () => {
  it.each(["./base", "../base", "."])("treats %s as a folder relative to the manifest", (raw) => {
    const ref = parseModelRef(raw, dir);
    expect(ref).toEqual({ raw, kind: "local", path: join(dir, raw) });
  });

  // A manifest from a pull request must not name the runner's files by absolute path.
  it("refuses an absolute path, suggesting the relative one when the folder exists here", () => {
    const error = rejectsWith(
      join(dir, "models", "base"),
      /is an absolute path; only paths relative to the manifest/,
    );
    expect(error.hint).toBe("Write it relative to the manifest: `./models/base`.");
  });

  it.each(["/home/alice/models/base", "E:\\models\\base", "C:/models/base", "\\\\server\\models"])(
    "refuses %s as a path from another machine",
    (raw) => {
      const error = rejectsWith(raw, /absolute/);
      expect(error.hint).toMatch(/looks like a local path from another machine/);
    },
  );

  it.each(["~", "~/models/x", "~bob/models"])("refuses the home-relative path %s", (raw) => {
    rejects(raw, /home-relative paths are not accepted/);
  });

  it("treats an existing folder that looks like org/name as local", () => {
    expect(parseModelRef("models/base", dir)).toEqual({
      raw: "models/base",
      kind: "local",
      path: join(dir, "models/base"),
    });
    expect(parseModelRef("models/other", dir).kind).toBe("hub");
  });

  it("rejects a revision on a local folder", () => {
    rejects("./base@main", /local folder has no revisions/);
  });
});

describe("formatModelRef and sameModelRef", () => {
  it("round-trips Hub references and keeps local ones as written", () => {
    for (const raw of ["org/name", "org/name@v1.0", "gpt2", "./models/base"]) {
      expect(formatModelRef(parseModelRef(raw, dir))).toBe(raw);
    }
  });

  it("compares by repo and revision, or by resolved path", () => {
    const same = (a: string, b: string): boolean =>
      sameModelRef(parseModelRef(a, dir), parseModelRef(b, dir));
    expect(same("org/a", "org/a")).toBe(true);
    expect(same("org/a", "org/a@main")).toBe(false);
    expect(same("./models/base", "models/base")).toBe(true);
    expect(same("./x", "org/x")).toBe(false);
  });
});

describe("repoIdProblem", () => {
  it("can require an owner", () => {
    expect(repoIdProblem("me/merge", true)).toBeUndefined();
    expect(repoIdProblem("merge", true)).toMatch(/owner/);
    expect(repoIdProblem("merge")).toBeUndefined();
  });
});
