import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionEvent } from "./github/events.js";
import { writeActionEvent } from "./github/index.js";

const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const SOURCE = fileURLToPath(new URL("../../src/action/index.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url));

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Runs the bundled Action (dist/index.js) as the runner would: INPUT_* and GITHUB_* variables. */
export async function runAction(options: {
  workspace: string;
  runnerDir: string;
  event: ActionEvent;
  apiUrl: string;
  inputs: Record<string, string>;
  /** Run src/action through tsx instead of the bundle: for changes dist/ does not carry yet. */
  fromSource?: boolean;
}): Promise<ActionRun> {
  const { env: eventEnv } = await writeActionEvent(options.runnerDir, options.event, {
    apiUrl: options.apiUrl,
  });
  const files = { output: "output.txt", summary: "summary.md", state: "state.txt" };
  for (const name of Object.values(files)) await writeFile(join(options.runnerDir, name), "");
  const inputs = Object.fromEntries(
    Object.entries(options.inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
  const env = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "",
    ...eventEnv,
    ...inputs,
    GITHUB_WORKSPACE: options.workspace,
    RUNNER_TEMP: options.runnerDir,
    GITHUB_OUTPUT: join(options.runnerDir, files.output),
    GITHUB_STEP_SUMMARY: join(options.runnerDir, files.summary),
    GITHUB_STATE: join(options.runnerDir, files.state),
  };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, options.fromSource ? ["--import", TSX, SOURCE] : [DIST], {
        cwd: options.workspace,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("error", reject);
      child.on("close", (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    },
  );
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(await readFile(join(options.runnerDir, files.output), "utf8")),
    summary: await readFile(join(options.runnerDir, files.summary), "utf8"),
  };
}

/** The runner's `name<<DELIMITER … DELIMITER` file format. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i]!);
    outputs[match[1]!] = value.join("\n");
  }
  return outputs;
}
