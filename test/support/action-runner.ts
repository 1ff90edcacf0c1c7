import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { parse } from "yaml";
import type { ActionEvent } from "./github/events.js";
import { writeActionEvent } from "./github/index.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** What the main step saved with saveState (the runner hands it to the post step). */
  state: Record<string, string>;
}

let copy: Promise<string> | undefined;

// Vitest loads this module afresh for each test file: the copy lives as long as the file's tests.
afterAll(async () => {
  const dir = await copy;
  copy = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The Action as the runner downloads it: action.yml and the committed dist/ alone in a folder of
 * their own, outside this repo, so no node_modules is reachable from it (the runner never runs npm
 * install for an action). Copied once per test process. HUBMERGE_ACTION_SOURCE points at another
 * tree to copy from, e.g. an unpacked `git archive` of an older commit.
 */
export function actionCopy(): Promise<string> {
  copy ??= (async () => {
    const source = process.env["HUBMERGE_ACTION_SOURCE"] ?? REPO_ROOT;
    const dir = await mkdtemp(join(tmpdir(), "hubmerge-action-"));
    await cp(join(source, "action.yml"), join(dir, "action.yml"));
    await cp(join(source, "dist"), join(dir, "dist"), { recursive: true });
    return dir;
  })();
  return copy;
}

/** Runs the bundled Action (dist/index.js) as the runner would: INPUT_* and GITHUB_* variables. */
export async function runAction(options: {
  workspace: string;
  runnerDir: string;
  event: ActionEvent;
  apiUrl: string;
  inputs: Record<string, string>;
  /** Extra environment (e.g. HUBMERGE_GPU_ALLOW_SOFTWARE). */
  env?: Record<string, string>;
}): Promise<ActionRun> {
  const { env: eventEnv } = await writeActionEvent(options.runnerDir, options.event, {
    apiUrl: options.apiUrl,
  });
  const files = { output: "output.txt", summary: "summary.md", state: "state.txt" };
  for (const name of Object.values(files)) await writeFile(join(options.runnerDir, name), "");
  const action = await actionCopy();
  // The runner passes every input, action.yml's defaults included, upper-cased with hyphens kept
  // (INPUT_HF-TOKEN). Expression defaults (`${{ github.token }}`) are left to the test to pass.
  const given = { ...(await inputDefaults(action)), ...options.inputs };
  const inputs = Object.fromEntries(
    Object.entries(given).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
  const env = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "",
    ...eventEnv,
    ...inputs,
    ...options.env,
    GITHUB_WORKSPACE: options.workspace,
    RUNNER_TEMP: options.runnerDir,
    GITHUB_OUTPUT: join(options.runnerDir, files.output),
    GITHUB_STEP_SUMMARY: join(options.runnerDir, files.summary),
    GITHUB_STATE: join(options.runnerDir, files.state),
  };
  const { code, stdout, stderr } = await runNode(join(action, "dist", "index.js"), options.workspace, env);
  return {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(await readFile(join(options.runnerDir, files.output), "utf8")),
    summary: await readFile(join(options.runnerDir, files.summary), "utf8"),
    state: parseFileCommands(await readFile(join(options.runnerDir, files.state), "utf8")),
  };
}

async function inputDefaults(action: string): Promise<Record<string, string>> {
  const metadata = parse(await readFile(join(action, "action.yml"), "utf8")) as {
    inputs?: Record<string, { default?: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(metadata.inputs ?? {}).flatMap(([name, input]) =>
      typeof input.default === "string" && !input.default.includes("${{") ? [[name, input.default]] : [],
    ),
  );
}

/** The post step (dist/post.js), handed the main step's saved state as STATE_<name> variables. */
export async function runPost(options: {
  workspace: string;
  state: Record<string, string>;
}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "",
    GITHUB_WORKSPACE: options.workspace,
    ...Object.fromEntries(Object.entries(options.state).map(([name, value]) => [`STATE_${name}`, value])),
  };
  const action = await actionCopy();
  return runNode(join(action, "dist", "post.js"), options.workspace, env);
}

function runNode(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (exit, signal) =>
      resolve({ code: exit, stdout: out, stderr: signal ? `${err}\nkilled by ${signal}` : err }),
    );
  });
}

/** The runner's `name<<DELIMITER … DELIMITER` file format (GITHUB_OUTPUT and GITHUB_STATE). */
function parseFileCommands(text: string): Record<string, string> {
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
