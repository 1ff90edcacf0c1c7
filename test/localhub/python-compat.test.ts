/**
 * What Python's huggingface_hub needs from the hub (issue 13, compatibility 1–3), replayed with
 * the exact requests the client sends (recorded from huggingface_hub 1.29.0.dev0 against this
 * server). python-client.test.ts runs the client itself when it is installed.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, binaryBytes, startTestHub, type TestHub } from "./helpers.js";

let t: TestHub;
const WEIGHTS = binaryBytes(3001, 5);

beforeAll(async () => {
  t = await startTestHub();
  await t.hub.admin.createRepo("alice/py");
  await t.hub.admin.commit("alice/py", { "notes.txt": "hello\n", "model.safetensors": WEIGHTS });
});
afterAll(() => t.stop());

async function post(path: string, body: unknown, token: string | undefined = ALICE) {
  const res = await fetch(`${t.hub.url}${path}`, {
    method: "POST",
    headers: {
      Accept: "*/*",
      "Content-Type": "application/json",
      ...(token && { Authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("create_repo(exist_ok=True)", () => {
  it("the 409 for an existing repo carries its url, as the Hub's does", async () => {
    const { status, body } = await post("/api/repos/create", { name: "py", organization: "alice" });
    expect(status).toBe(409);
    expect(body.url).toBe(`${t.hub.url}/alice/py`);
    expect(body.error).toMatch(/already created/);
  });
});

describe("POST /api/validate-yaml", () => {
  const validate = (content: string) => post("/api/validate-yaml", { content, repoType: "model" });

  it("answers 200 {errors, warnings} for valid front matter", async () => {
    const card = "---\nlicense: apache-2.0\ntags: [merge]\nbase_model: [a/b, c/d]\n---\n# Model\n";
    expect(await validate(card)).toEqual({ status: 200, body: { errors: [], warnings: [] } });
  });

  it("warns, without failing, when there is no metadata", async () => {
    const { status, body } = await validate("# Just a title\n");
    expect(status).toBe(200);
    expect(body.errors).toEqual([]);
    expect((body.warnings as { message: string }[])[0]?.message).toMatch(/empty or missing yaml metadata/);
  });

  it("answers 400 with the message for bad front matter (huggingface_hub's own test card)", async () => {
    const { status, body } = await validate("\n---\nmodel-index: foo\n---\nbad\n");
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ message: '"model-index" must be an array of objects with a name' }]);
    expect(body.error).toMatch(/^Invalid metadata in README\.md\./);
  });

  it.each([
    ["broken YAML", "---\nlicense: [apache\n---\n", /Invalid YAML/],
    ["a duplicated key", "---\nlicense: mit\nlicense: apache-2.0\n---\n", /Invalid YAML/],
    ["a list instead of a mapping", "---\n- a\n- b\n---\n", /must be a mapping/],
    ["a wrong type", "---\nlibrary_name: [transformers]\n---\n", /"library_name" must be a string/],
    [
      "an unknown relation",
      "---\nbase_model_relation: cousin\n---\n",
      /"base_model_relation" must be one of/,
    ],
  ])("refuses %s", async (_, card, pattern) => {
    const { status, body } = await validate(card);
    expect(status).toBe(400);
    expect((body.errors as { message: string }[])[0]?.message).toMatch(pattern);
  });

  it("needs no token", async () => {
    expect((await post("/api/validate-yaml", { content: "---\na: 1\n---\n" }, undefined)).status).toBe(200);
  });
});

describe("preupload", () => {
  it("gives each existing file's remote oid: sha256 for LFS files, the git blob sha1 for regular ones", async () => {
    const sample = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, 512)).toString("base64");
    const { status, body } = await post("/api/models/alice/py/preupload/main", {
      files: [
        { path: "model.safetensors", sample: sample(WEIGHTS), size: WEIGHTS.byteLength },
        { path: "notes.txt", sample: sample(Buffer.from("hello\n")), size: 6 },
        { path: "new.txt", sample: sample(Buffer.from("new\n")), size: 4 },
      ],
    });
    expect(status).toBe(200);
    const files = body.files as { path: string; uploadMode: string; oid?: string }[];
    const gitBlobSha1 = createHash("sha1").update("blob 6\0").update("hello\n").digest("hex");
    expect(files).toEqual([
      {
        path: "model.safetensors",
        uploadMode: "lfs",
        shouldIgnore: false,
        oid: createHash("sha256").update(WEIGHTS).digest("hex"),
      },
      { path: "notes.txt", uploadMode: "regular", shouldIgnore: false, oid: gitBlobSha1 },
      { path: "new.txt", uploadMode: "regular", shouldIgnore: false },
    ]);
  });
});
