import { downloadFile } from "@huggingface/hub";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCardData } from "../../src/source/card-data.js";
import { hubSession } from "../../src/session.js";
import { startLocalHub, type LocalHub } from "../../src/localhub/index.js";
import { runMerge } from "../../src/pipeline/index.js";
import { writeTinyLlama } from "../../src/synth/tiny-llama.js";
import { runCli } from "../support/cli.js";
import { seedHubModel } from "../support/hub-models.js";
import { TEST_LLAMA, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();
const TOKEN = "hf_acme_push_token_0123456789";
let hub: LocalHub;
let root: string;
const shas: Record<string, string> = {};

beforeEach(async () => {
  root = await tempDir();
  hub = await startLocalHub({ dir: join(root, "hub"), tokens: [{ token: TOKEN, user: "acme" }] });
  for (const [name, delta] of [
    ["base", 0],
    ["ft1", 101],
    ["ft2", 102],
  ] as const) {
    const dir = join(root, name);
    await writeTinyLlama(dir, TEST_LLAMA, {
      baseSeed: 1,
      ...(delta ? { delta: { seed: delta, std: 0.004 } } : {}),
    });
    shas[name] = await seedHubModel(hub, `acme/${name}`, dir);
  }
});

afterEach(async () => {
  await hub.close();
});

describe("hubmerge merge --push", () => {
  it("merges from the Hub and publishes files equal to the local output, with a card naming every source", async () => {
    const manifest = await writeManifest(
      root,
      `merge_method: ties
base_model: acme/base
models:
  - model: acme/ft1
    parameters: {weight: 0.5, density: 0.4}
  - model: acme/ft2@main
    parameters: {weight: 0.5, density: 0.4}
hubmerge:
  output: {repo: acme/merged, license: mit}
`,
    );
    const out = join(root, "out");
    const result = await runCli(["merge", manifest, "--out", out, "--push", "--hub-url", hub.url], {
      env: { HF_TOKEN: TOKEN },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `published ${hub.url}/acme/merged at commit ${hub.admin.head("acme/merged")}`,
    );
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    for (const file of ["model.safetensors", "config.json", "README.md", "hubmerge.json", "tokenizer.json"]) {
      const blob = await downloadFile({
        repo: "acme/merged",
        path: file,
        hubUrl: hub.url,
        accessToken: TOKEN,
      });
      expect(Buffer.from(await blob!.arrayBuffer())).toEqual(await readFile(join(out, file)));
    }
    const card = await readFile(join(out, "README.md"), "utf8");
    expect(card).not.toContain(TOKEN);
    expect(parseCardData(card)).toMatchObject({
      base_model: ["acme/base", "acme/ft1", "acme/ft2"],
      base_model_relation: "merge",
      license: "mit",
    });
    for (const name of ["base", "ft1", "ft2"]) expect(card).toContain(`/acme/${name}/tree/${shas[name]}`);
  });

  it("keeps the same DARE masks when the manifest pins a source's revision", async () => {
    const session = hubSession({ hubUrl: hub.url, token: TOKEN });
    const text = (ft2: string) => `merge_method: dare_ties
base_model: acme/base
models:
  - model: acme/ft1
    parameters: {weight: 0.5, density: 0.3}
  - model: ${ft2}
    parameters: {weight: 0.5, density: 0.3}
`;
    const bytes: Buffer[] = [];
    for (const [name, ft2] of [
      ["floating", "acme/ft2"],
      ["pinned", `acme/ft2@${shas["ft2"]}`],
    ]) {
      const manifestPath = await writeManifest(root, text(ft2!), `${name}.yaml`);
      const out = join(root, name!);
      await runMerge({ manifestPath, out, resolver: session.resolver });
      bytes.push(await readFile(join(out, "model.safetensors")));
    }
    expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
  });

  it("fails clearly without a token, and creates nothing", async () => {
    const manifest = await writeManifest(
      root,
      `merge_method: linear
models:
  - model: acme/ft1
    parameters: {weight: 1}
hubmerge:
  output: {repo: acme/solo}
`,
    );
    const result = await runCli(["merge", manifest, "--push", "--hub-url", hub.url], {
      env: { HF_TOKEN: "" },
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toMatch(/E_HUB_AUTH/);
    expect(() => hub.admin.head("acme/solo")).toThrow();
  });
});
