/**
 * The real Python client, huggingface_hub, against the local hub (issue 13, compatibility). It is
 * not a dependency of this project: the test runs only where `python3` can import it, and skips
 * cleanly elsewhere. python-compat.test.ts replays its requests without it.
 *
 * - HUBMERGE_PYTHON: the interpreter (default /usr/bin/python3, where Debian's python3-httpx etc.
 *   live; the default `python3` may be another one).
 * - HUBMERGE_HF_HUB_SRC: a folder put on PYTHONPATH, e.g. the `src` of a huggingface_hub checkout.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, startTestHub, type TestHub } from "./helpers.js";

const run = promisify(execFile);
const PYTHON = process.env.HUBMERGE_PYTHON ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./python/drive_client.py", import.meta.url));

function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const src = process.env.HUBMERGE_HF_HUB_SRC;
  return {
    PATH: process.env.PATH,
    ...(src && { PYTHONPATH: src }),
    HF_HUB_DISABLE_TELEMETRY: "1",
    HF_HUB_DISABLE_XET: "1",
    ...extra,
  };
}

async function clientAvailable(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await run(PYTHON, ["-c", "import huggingface_hub, httpx"], { env: pythonEnv(), timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const available = await clientAvailable();

describe.skipIf(!available)("huggingface_hub (Python) against the local hub", () => {
  let t: TestHub;
  let home: string;
  beforeAll(async () => {
    t = await startTestHub({ multipartThreshold: 4000, multipartChunkSize: 2000 });
    home = await mkdtemp(join(tmpdir(), "localhub-python-"));
  });
  afterAll(async () => {
    await t.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("creates, commits (README, LFS single and multipart), skips unchanged files, reads back", async () => {
    const env = pythonEnv({
      HF_ENDPOINT: t.hub.url,
      HF_TOKEN: ALICE,
      HF_HOME: home,
      REPO: "alice/from-python",
    });
    const result = await run(PYTHON, [SCRIPT], { env, timeout: 120_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? "",
        stderr: error.stderr ?? "",
      }),
    );
    const lines = result.stdout.split("\n").filter((line) => /^(PASS|FAIL) /.test(line));
    expect(
      lines.filter((line) => line.startsWith("FAIL")),
      `${result.stdout}\n${result.stderr}`,
    ).toEqual([]);
    expect(lines.length, result.stderr).toBe(10);
    // The multipart path was taken: parts were PUT and completed.
    expect(t.hub.requests.matching({ method: "PUT", pathIncludes: "/part/" }).length).toBeGreaterThan(1);
  }, 150_000);
});
