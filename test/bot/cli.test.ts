import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import { useTempDirs } from "../support/tmp.js";
import {
  GITHUB_TOKEN,
  GITHUB_WEBHOOK_SECRET,
  HF_SECRET,
  hubWebhookBody,
  manifestUsing,
  sha,
} from "./harness.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/bot-cli.ts", import.meta.url));
const tempDir = useTempDirs();
let github: LocalGitHub | undefined;

afterEach(async () => {
  await github?.close();
});

it("`hubmerge bot --config` serves until SIGTERM, then flushes the pending dispatch and exits 0", async () => {
  github = await startLocalGitHub({ tokens: [GITHUB_TOKEN] });
  github.seedRepo("acme/merges", {
    files: { "merges/a.yaml": manifestUsing(["acme/base", "acme/ft"], "acme/a") },
  });
  const config = join(await tempDir(), "bot.yaml");
  await writeFile(config, "repos: [acme/merges]\nhost: 127.0.0.1\ndebounceMs: 60000\n");
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, "bot", "--config", config], {
    env: {
      PATH: process.env["PATH"] ?? "",
      PORT: "0",
      GITHUB_API_URL: github.url,
      HF_WEBHOOK_SECRET: HF_SECRET,
      GITHUB_TOKEN,
      GITHUB_WEBHOOK_SECRET,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  /** The first log record of `event`, once the bot has written it. */
  const logged = async (event: string): Promise<Record<string, unknown>> => {
    // Generous: starting the bot under tsx takes seconds on a loaded 2-core machine.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const line = stdout.split("\n").find((l) => l.includes(`"event":"${event}"`));
      if (line) return JSON.parse(line) as Record<string, unknown>;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no ${event} in the bot's log; stderr: ${stderr}`);
  };
  const url = String((await logged("bot.started")).url);
  await logged("index.refreshed");

  const health = await fetch(`${url}/healthz`);
  expect(await health.json()).toMatchObject({ status: "ok", indexed: { repos: 1, models: 2 } });
  const accepted = await fetch(`${url}/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-webhook-secret": HF_SECRET },
    body: JSON.stringify(hubWebhookBody("acme/ft", sha(1))),
  });
  expect(accepted.status).toBe(202);
  expect(github.dispatches).toHaveLength(0); // still debouncing

  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(github.dispatches.map((d) => d.client_payload)).toEqual([{ model: "acme/ft", sha: sha(1) }]);
  const events = stdout
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { event: string }).event);
  expect(events).toEqual(
    expect.arrayContaining(["bot.started", "bot.stopping", "dispatch.sent", "bot.stopped"]),
  );
  for (const secret of [HF_SECRET, GITHUB_TOKEN, GITHUB_WEBHOOK_SECRET])
    expect(stdout + stderr).not.toContain(secret);
});
