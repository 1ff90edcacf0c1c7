import * as core from "@actions/core";
import { HubmergeError } from "../errors.js";
import { BACKEND_NAMES, type BackendName } from "../pipeline.js";

export type Mode = "plan" | "apply" | "auto";
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
}

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
  return {
    mode: oneOf("mode", ["plan", "apply", "auto"], "auto"),
    manifests: optional("manifests") ?? "merges/**/*.yaml",
    only: optional("only"),
    hfToken,
    githubToken,
    hubUrl: (optional("hub-url") ?? "https://huggingface.co").replace(/\/+$/, ""),
    force: (optional("force") ?? "false").toLowerCase() === "true",
    threads: threads === undefined ? undefined : positiveInt("threads", threads),
    backend: oneOf("backend", BACKEND_NAMES, "auto"),
    lockUpdate: oneOf("lock-update", ["commit", "pull-request", "none"], "commit"),
  };
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
