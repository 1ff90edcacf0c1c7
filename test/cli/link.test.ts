/** The CLI over a paced Hub with CDN redirects: --connections, --read-ahead, progress in bytes. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, startTestHub, type TestHub } from "../localhub/helpers.js";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { folderFiles } from "../support/hub-models.js";

let t: TestHub;
let dir = "";
const MANIFEST = `merge_method: dare_ties
base_model: alice/base
models:
  - model: alice/ft1
    parameters: {weight: 0.5, density: 0.5}
  - model: alice/ft2
    parameters: {weight: 0.5, density: 0.5}
dtype: bfloat16
hubmerge: {seed: 3}
`;

beforeAll(async () => {
  t = await startTestHub({ pacing: { perConnection: 8e6, total: 32e6, latencyMs: 1 }, cdn: true });
  dir = await mkdtemp(join(tmpdir(), "hubmerge-cli-link-"));
  const family = await writeFamily(dir);
  for (const [name, path] of [
    ["base", family.base],
    ["ft1", family.fineTunes[0]!],
    ["ft2", family.fineTunes[1]!],
  ]) {
    await t.hub.admin.createRepo(`alice/${name}`, { private: true });
    await t.hub.admin.commit(`alice/${name}`, await folderFiles(path!));
  }
});
afterAll(async () => {
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("hubmerge merge over the link", () => {
  it("gives the same weights with --connections 1 and 16, with or without read-ahead, and shows MB/s", async () => {
    const manifest = await writeManifest(dir, MANIFEST);
    const env = { HF_TOKEN: ALICE, HF_ENDPOINT: t.hub.url };
    const one = await runCli(
      ["merge", manifest, "--out", join(dir, "one"), "--connections", "1", "--read-ahead", "0"],
      { env },
    );
    expect(one.code, one.stderr).toBe(0);
    const many = await runCli(
      ["merge", manifest, "--out", join(dir, "many"), "--connections", "16", "--read-ahead", "2MiB"],
      { env },
    );
    expect(many.code, many.stderr).toBe(0);
    expect(many.stderr).toMatch(/merged \d+\/\d+ tensors, [\d.]+ [kM]?B of [\d.]+ [kM]?B read, /);
    expect(many.stderr).toMatch(/MB\/s, ETA /);
    const weights = async (out: string) =>
      Object.entries(await folderFiles(join(dir, out))).filter(([path]) => path.endsWith(".safetensors"));
    const [a, b] = [await weights("one"), await weights("many")];
    expect(a.map(([p]) => p)).toEqual(b.map(([p]) => p));
    a.forEach(([path, bytes], i) => expect(Buffer.from(bytes).equals(b[i]![1]), path).toBe(true));
    expect(t.hub.cdn!.requests.some((r) => JSON.stringify(r.headers).includes(ALICE))).toBe(false);
  });

  it("rejects a connection count below one and a malformed read-ahead with the usage status", async () => {
    const zero = await runCli(["merge", "x.yaml", "--out", "o", "--connections", "0"]);
    expect(zero.code).toBe(2);
    const bad = await runCli(["merge", "x.yaml", "--out", "o", "--read-ahead", "lots"]);
    expect(bad.code).toBe(2);
  });
});
