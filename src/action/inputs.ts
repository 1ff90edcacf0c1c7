import * as core from "@actions/core";
import { HubmergeError } from "../errors.js";
import { BACKEND_NAMES, type BackendName } from "../pipeline/index.js";

export type Mode = "plan" | "apply" | "auto" | "publish";
export type LockUpdate = "commit" | "pull-request" | "none";

/** Every input of action.yml, read in one place. */
export interface ActionInputs {
  mode: Mode;
  manifests: string;
  only?: string;
  hfToken?: string;
  githubToken?: string;
  hubUrl: string;
  force: boolean;
  threads?: number;
  backend: BackendName;
  lockUpdate: LockUpdate;
  /** A folder where `webgpu` resolves from (its node_modules, or the package itself). */
  webgpuPath?: string;
  /** apply: merge only this part (`I/N`) of the one selected manifest, reading these pins (JSON). */
  part?: string;
  pins?: string;
  /** The largest output shard in bytes (default 5 GB); a part is whole shards. */
  shardSize?: number;
  /** publish: the folder the parts' receipts were downloaded to. */
  partsDir?: string;
}

/** Both YAML extensions: `merges/x.yml` is as much a manifest as `merges/x.yaml`. */
export const DEFAULT_MANIFESTS = "merges/**/*.yaml\nmerges/**/*.yml";

export function readInputs(): ActionInputs {
  const hfToken = optional("hf-token");
  const githubToken = optional("github-token");
  // Masked before anything could print them, with the forms they take in HTTP headers.
  for (const token of [hfToken, githubToken]) {
    if (!token) continue;
    for (const form of [
      token,
      `Bearer ${token}`,
      `token ${token}`,
      Buffer.from(`x-access-token:${token}`).toString("base64"),
    ]) {
      core.setSecret(form);
    }
  }
  const threads = optional("threads");
  const shardSize = optional("shard-size");
  return {
    mode: oneOf("mode", ["plan", "apply", "auto", "publish"], "auto"),
    manifests: optional("manifests") ?? DEFAULT_MANIFESTS,
    only: optional("only"),
    hfToken,
    githubToken,
    hubUrl: (optional("hub-url") ?? "https://huggingface.co").replace(/\/+$/, ""),
    force: (optional("force") ?? "false").toLowerCase() === "true",
    threads: threads === undefined ? undefined : positiveInt("threads", threads),
    backend: oneOf("backend", BACKEND_NAMES, "auto"),
    lockUpdate: oneOf("lock-update", ["commit", "pull-request", "none"], "commit"),
    webgpuPath: optional("webgpu-path"),
    part: optional("part"),
    pins: optional("pins"),
    partsDir: optional("parts-dir"),
    shardSize: shardSize === undefined ? undefined : positiveInt("shard-size", shardSize),
  };
}

/**
 * Apply publishes to the Hub, so a missing token is an input error found before any merge work,
 * named as the workflow spells it (not the CLI's HF_TOKEN / --token).
 */
export function requireApplyInputs(inputs: ActionInputs): void {
  if (inputs.part !== undefined && inputs.pins === undefined) {
    throw new HubmergeError("E_USAGE", `input part is ${inputs.part}, but input pins is empty`, {
      hint: "pass both from the plan job's matrix: `part: ${{ matrix.part }}` and `pins: ${{ matrix.pins }}`",
    });
  }
  if (inputs.mode === "publish" && inputs.partsDir === undefined) {
    throw new HubmergeError("E_USAGE", "mode is publish, but input parts-dir is empty", {
      hint: "download the parts' receipts (actions/download-artifact) and pass their folder as parts-dir",
    });
  }
  if (inputs.hfToken !== undefined) return;
  throw new HubmergeError("E_USAGE", "input hf-token is empty, and apply publishes to the Hub", {
    hint:
      "pass `hf-token: ${{ secrets.HF_TOKEN }}` (a write token for the output repos), " +
      "or run `mode: plan`, which needs no Hub token",
  });
}

function optional(name: string): string | undefined {
  const value = core.getInput(name).trim();
  return value === "" ? undefined : value;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = optional(name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new HubmergeError("E_USAGE", `input ${name} is ${JSON.stringify(value)}`, {
      hint: `set ${name} to one of ${allowed.join(", ")}`,
    });
  }
  return value as T;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new HubmergeError("E_USAGE", `input ${name} is ${JSON.stringify(value)}`, {
      hint: "use a positive integer",
    });
  }
  return n;
}
