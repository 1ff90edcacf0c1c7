import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

const MANIFEST = `merge_method: ties
base_model: ./base
models:
  - model: ./ft1
    parameters: {weight: 0.5, density: 0.5}
  - model: ./ft2
    parameters: {weight: 0.5, density: 0.5}
`;

describe("hubmerge plan --pins, merge --part, publish --parts", () => {
  it("assembles two parts into the files of a one-process merge", async () => {
    const root = await tempDir();
    await writeFamily(root);
    const manifest = await writeManifest(root, MANIFEST);
    const pins = join(root, "pins.json");
    const shard = ["--shard-size", "8000"];
    expect((await runCli(["plan", manifest, "--pins", pins, ...shard])).code).toBe(0);
    expect(JSON.parse(await readFile(pins, "utf8"))).toMatchObject({ format: "hubmerge-pins/1" });
    for (const i of [1, 2]) {
      const part = await runCli([
        "merge",
        manifest,
        "--part",
        `${i}/2`,
        "--pins",
        pins,
        "--out",
        join(root, "parts", `p${i}`),
        "-q",
        ...shard,
      ]);
      expect(part.code, part.stderr).toBe(0);
      expect(part.stdout).toContain(`merged part ${i}/2`);
    }
    const assembled = await runCli([
      "publish",
      manifest,
      "--parts",
      join(root, "parts"),
      "--out",
      join(root, "assembled"),
      "-q",
    ]);
    expect(assembled.code, assembled.stderr).toBe(0);
    expect((await runCli(["merge", manifest, "--out", join(root, "single"), "-q", ...shard])).code).toBe(0);
    const names = (await readdir(join(root, "single"))).sort();
    expect((await readdir(join(root, "assembled"))).sort()).toEqual(names);
    for (const name of names) {
      const a = await readFile(join(root, "assembled", name));
      expect(a.equals(await readFile(join(root, "single", name))), name).toBe(true);
    }
  }, 120_000);

  it("refuses a part run without pins or without an output folder", async () => {
    const root = await tempDir();
    const manifest = await writeManifest(root, MANIFEST);
    const noPins = await runCli(["merge", manifest, "--part", "1/2", "--out", join(root, "p")]);
    expect(noPins.code).toBe(2);
    expect(noPins.stderr).toContain("--part needs --pins FILE");
    const noOut = await runCli(["merge", manifest, "--part", "1/2", "--push"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--part needs --out DIR");
    const bad = await runCli(["merge", manifest, "--part", "3/2", "--out", join(root, "p")]);
    expect(bad.code).toBe(2);
  }, 60_000);
});
