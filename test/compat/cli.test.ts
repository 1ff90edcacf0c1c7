import { Command, CommanderError } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerCheck } from "../../src/cli/check.js";
import { ERROR_CODES, HubmergeError } from "../../src/errors.js";
import { runCli } from "../support/cli.js";
import { writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";
import { taskManifest, writeFixtures } from "./helpers.js";

const tempDir = useTempDirs();

/** Runs `hubmerge check ...` in this process: resolves to the exit status main() would give, and the output. */
async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command("hubmerge")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerCheck(program);
  let stdout = "";
  let stderr = "";
  const out = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    await program.parseAsync(["node", "hubmerge", "check", ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (error instanceof HubmergeError)
      return { code: error.exitCode, stdout, stderr: stderr + error.format() };
    if (error instanceof CommanderError)
      return { code: ERROR_CODES.E_USAGE, stdout, stderr: stderr + error.message };
    throw error;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("hubmerge check (in process)", () => {
  it("prints a clean table and exits 0 for true fine-tunes", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "ft2"]);
    const result = await check([await writeManifest(dir, taskManifest(["ft1", "ft2"]))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/delta probe against \.\/base/);
    expect(result.stdout).toMatch(/compatible: 0 blocking, 0 warning/);
  });

  it("exits with E_INCOMPATIBLE after printing, unless allowed", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "other"]);
    const manifest = await writeManifest(dir, taskManifest(["ft1", "other"]));
    const refused = await check([manifest]);
    expect(refused.code).toBe(ERROR_CODES.E_INCOMPATIBLE);
    expect(refused.stdout).toMatch(/blocking\s+6\s+\.\/other/);
    expect(refused.stderr).toMatch(/merge\.yaml:6:\d+: \[E_INCOMPATIBLE\]/);
    for (const flag of ["--allow-incompatible", "--allow-crimes"]) {
      const allowed = await check([manifest, flag]);
      expect(allowed.code, flag).toBe(0);
      expect(allowed.stderr).toMatch(/blocking findings allowed/);
    }
    const inManifest = await writeManifest(
      dir,
      taskManifest(["ft1", "other"], "dare_ties", "hubmerge:\n  allow_incompatible: true\n"),
      "allowed.yaml",
    );
    expect((await check([inManifest])).code).toBe(0);
  });

  it("prints JSON or Markdown, takes probe options, and rejects bad flags", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "cpt"]);
    const manifest = await writeManifest(dir, taskManifest(["cpt"]));
    const json = await check([manifest, "--json", "--probe-bytes", "8KiB"]);
    const report = JSON.parse(json.stdout);
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(["probe.continued-pretraining"]);
    expect(report.probe[0].bytesRead).toBeLessThanOrEqual(8192);
    const markdown = await check([
      manifest,
      "--markdown",
      "--threshold",
      "continuedPretrainingDelta=0.5",
      "distantCosine=0.5",
    ]);
    expect(markdown.stdout).toMatch(/^### Backbone compatibility: ✅ compatible/);
    const noProbe = await check([manifest, "--json", "--no-probe"]);
    expect(JSON.parse(noProbe.stdout).probe).toEqual([]);
    expect((await check([manifest, "--threshold", "nope=1"])).code).toBe(ERROR_CODES.E_USAGE);
    expect((await check([manifest, "--json", "--markdown"])).code).toBe(ERROR_CODES.E_USAGE);
  });
});

// Runs once src/cli/main.ts registers the subcommand.
describe("hubmerge check (the real CLI)", () => {
  it("exits 0 on fine-tunes, 5 on an unrelated model, 0 with --allow-crimes", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "other"]);
    const clean = await runCli(["check", await writeManifest(dir, taskManifest(["ft1"]), "clean.yaml")]);
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(0);
    const manifest = await writeManifest(dir, taskManifest(["ft1", "other"]));
    const refused = await runCli(["check", manifest, "--markdown"]);
    expect(refused.code).toBe(ERROR_CODES.E_INCOMPATIBLE);
    expect(refused.stdout).toMatch(/⛔ blocking/);
    expect(refused.stderr).toMatch(/\[E_INCOMPATIBLE\]/);
    expect((await runCli(["check", manifest, "--allow-crimes"])).code).toBe(0);
  });
});
