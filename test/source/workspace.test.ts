/**
 * Issue 13, security 1: a pull request's manifest must not read the runner's files. The attack:
 * `merges/evil/m/config.json` is a symlink (git stores symlinks) to a JSON file outside the
 * workspace, and `model: ./m` makes the compatibility check print that file's keys and values.
 */
import { copyFile, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderMarkdown, renderJson } from "../../src/compat/render.js";
import { isHubmergeError, type HubmergeError } from "../../src/errors.js";
import { planRun } from "../../src/pipeline/index.js";
import { createSourceResolver } from "../../src/source/hub-resolver.js";
import { LocalSource } from "../../src/source/local-source.js";
import { Workspace } from "../../src/source/workspace.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const SECRET = "c2VjcmV0LXJlZ2lzdHJ5LXRva2VuLTAwMDE=";
/** What a runner might hold outside the checkout: a registry login, say. */
const RUNNER_FILE = JSON.stringify({ auths: { "ghcr.io": { auth: SECRET } }, credsStore: "desktop" });

const MANIFEST = `merge_method: task_arithmetic
base_model: ./base
models:
  - model: ./m
    parameters: {weight: 1}
`;

/** A workspace with `merges/evil/{base,m}` whose `m/config.json` links to a file outside it. */
async function attackWorkspace(): Promise<{ workspace: string; manifest: string; outside: string }> {
  const root = await tempDir();
  const workspace = join(root, "workspace");
  const evil = join(workspace, "merges", "evil");
  await mkdir(evil, { recursive: true });
  const { base, fineTunes } = await writeFamily(evil, { fineTunes: 1 });
  const model = join(evil, "m");
  await mkdir(model);
  await copyFile(join(fineTunes[0]!, "model.safetensors"), join(model, "model.safetensors"));
  const outside = join(root, "runner-home", "config.json");
  await mkdir(join(outside, ".."));
  await writeFile(outside, RUNNER_FILE);
  await symlink(outside, join(model, "config.json"));
  expect(base).toBe(join(evil, "base"));
  return { workspace, manifest: await writeManifest(evil, MANIFEST), outside };
}

async function caught(promise: Promise<unknown>): Promise<HubmergeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isHubmergeError(error)) throw new Error(`expected a HubmergeError, got ${String(error)}`);
  return error;
}

describe("the symlinked config.json attack", () => {
  it("is refused when the run is confined to the workspace, naming the file and not its content", async () => {
    const { workspace, manifest } = await attackWorkspace();
    const resolver = createSourceResolver({ workspace });
    const error = await caught(
      planRun({ manifestPath: manifest, resolver, check: true, allowIncompatible: true }),
    );
    expect(error.code).toBe("E_IO");
    expect(error.message).toBe(
      "config.json in ./m resolves outside the workspace (through a symlink or `..`)",
    );
    expect(error.where.model).toBe("./m");
    expect(error.format()).not.toContain(SECRET);
    expect(error.format()).not.toContain("runner-home"); // nor where the link points
  });

  it("shows no value of the foreign file in the report even when not confined (the CLI's default)", async () => {
    const { manifest } = await attackWorkspace();
    const planned = await planRun({ manifestPath: manifest, check: true, allowIncompatible: true });
    for (const model of planned.models.values()) await model.tensors.close();
    const markdown = renderMarkdown(planned.compat!);
    const json = renderJson(planned.compat!);
    expect(markdown).toContain("auths differs");
    for (const text of [markdown, json]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("ghcr.io");
      expect(text).not.toContain("desktop");
    }
  });
});

describe("LocalSource confined to a workspace", () => {
  async function setup() {
    const root = await tempDir();
    const workspace = join(root, "ws");
    const model = join(workspace, "model");
    await mkdir(join(model, "sub"), { recursive: true });
    await writeFile(join(model, "config.json"), '{"model_type":"llama"}');
    await writeFile(join(root, "outside.json"), '{"secret":"x"}');
    await writeFile(join(workspace, "shared-tokenizer.json"), "{}");
    return { root, workspace, model, ws: await Workspace.open(workspace) };
  }

  it("follows symlinks that stay inside the workspace", async () => {
    const { workspace, model, ws } = await setup();
    await symlink(join(workspace, "shared-tokenizer.json"), join(model, "tokenizer.json"));
    const source = await LocalSource.open("./model", model, { workspace: ws });
    expect(new TextDecoder().decode((await source.readFile("tokenizer.json"))!)).toBe("{}");
    expect(await source.readFile("missing.json")).toBeNull();
  });

  it("refuses a file that links out, for readFile and open alike", async () => {
    const { root, model, ws } = await setup();
    await symlink(join(root, "outside.json"), join(model, "tokenizer_config.json"));
    await symlink(join(root, "outside.json"), join(model, "model.safetensors"));
    const source = await LocalSource.open("./model", model, { workspace: ws });
    expect((await caught(source.readFile("tokenizer_config.json"))).message).toMatch(
      /^tokenizer_config\.json in \.\/model resolves outside the workspace/,
    );
    expect((await caught(source.open("model.safetensors"))).message).toMatch(
      /^model\.safetensors in \.\/model resolves outside the workspace/,
    );
  });

  it("refuses a linked folder on the way to a file", async () => {
    const { root, model, ws } = await setup();
    await mkdir(join(root, "elsewhere"));
    await writeFile(join(root, "elsewhere", "special_tokens_map.json"), "{}");
    await symlink(join(root, "elsewhere"), join(model, "sub", "linked"));
    const source = await LocalSource.open("./model", model, { workspace: ws });
    expect((await caught(source.readFile("sub/linked/special_tokens_map.json"))).message).toMatch(
      /^sub\/linked\/special_tokens_map\.json in \.\/model resolves outside/,
    );
  });

  it("refuses a model folder that is a link out of the workspace, or reached with ..", async () => {
    const { root, workspace, ws } = await setup();
    await mkdir(join(root, "models", "x"), { recursive: true });
    await symlink(join(root, "models", "x"), join(workspace, "linked-model"));
    const linked = await caught(
      LocalSource.open("./linked-model", join(workspace, "linked-model"), { workspace: ws }),
    );
    expect(linked.message).toBe(
      "the model folder ./linked-model resolves outside the workspace (through a symlink or `..`)",
    );
    const climbed = await caught(
      LocalSource.open("../models/x", join(workspace, "..", "models", "x"), { workspace: ws }),
    );
    expect(climbed.message).toMatch(/^the model folder \.\.\/models\/x resolves outside the workspace/);
  });

  it("reads a workspace that is itself reached through a symlink", async () => {
    const { root, workspace } = await setup();
    await symlink(workspace, join(root, "ws-link"));
    const ws = await Workspace.open(join(root, "ws-link"));
    const source = await LocalSource.open("./model", join(root, "ws-link", "model"), { workspace: ws });
    expect(await readFile(join(source.root, "config.json"), "utf8")).toBe('{"model_type":"llama"}');
  });

  it("says when the workspace itself is missing", async () => {
    const root = await tempDir();
    expect((await caught(Workspace.open(join(root, "nope")))).code).toBe("E_USAGE");
  });
});
