/**
 * The local hub's tokens, from `--tokens-file` or from code, checked against a strict schema.
 * Loose checks were a hole: `"orgs": "team"` (a string) made `orgs.includes(ns)` a substring test
 * that granted namespaces such as `e`. Unknown keys, wrong types, tokens without `hf_` and duplicate
 * tokens are all errors that name the file and the key. A token's value never appears in a message.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { HubmergeError } from "../errors.js";
import { isRepoNamePart } from "./names.js";
import type { TokenSpec } from "./types.js";

const NAME = z
  .string({ error: "expected a string" })
  .refine(isRepoNamePart, "expected a user or org name (letters, digits, '-', '_', '.')");

const TokenEntry = z.strictObject(
  {
    token: z
      .string({ error: "expected a string" })
      .regex(/^hf_\S{1,250}$/, 'must start with "hf_" and hold no spaces (the Hub client refuses others)'),
    user: NAME,
    orgs: z.array(NAME, { error: "expected a list of org names" }).optional(),
    role: z.enum(["read", "write"], { error: 'expected "read" or "write"' }).optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? undefined : "expected an object") },
);

const TokenList = z.array(TokenEntry, { error: "expected a list of token objects" });

/** Reads and checks a tokens file: a JSON list of `{token, user, orgs?, role?}`. */
export async function readTokensFile(path: string): Promise<TokenSpec[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new HubmergeError("E_USAGE", `cannot read the tokens file ${path}: ${String(error)}`, {
      hint: "Pass --tokens-file a readable JSON file.",
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw tokenError(path, `is not valid JSON (${(error as Error).message})`);
  }
  return checkTokenSpecs(parsed, path);
}

/** Checks token specs (from a file or from code); `source` names where they came from. */
export function checkTokenSpecs(value: unknown, source: string): TokenSpec[] {
  const result = TokenList.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = formatKey(issue?.path ?? []);
    const unknown =
      issue?.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.join(", ")}` : undefined;
    throw tokenError(source, `${key ? `${key}: ` : ""}${unknown ?? issue?.message ?? "invalid"}`);
  }
  const seen = new Map<string, number>();
  for (const [i, spec] of result.data.entries()) {
    const first = seen.get(spec.token);
    if (first !== undefined) throw tokenError(source, `[${i}].token repeats the token of [${first}]`);
    seen.set(spec.token, i);
  }
  return result.data;
}

function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
    .join("")
    .replace(/^\./, "");
}

function tokenError(source: string, detail: string): HubmergeError {
  return new HubmergeError("E_USAGE", `local hub tokens in ${source}: ${detail}`, {
    hint: 'Write a JSON list such as [{"token": "hf_local_alice", "user": "alice", "orgs": ["acme"], "role": "write"}].',
  });
}
