/**
 * Turning problems into E_MANIFEST errors that point at a line and column: zod issues (whose
 * paths name the offending node) and the parser's own checks.
 */
import type * as z from "zod";
import { HubmergeError } from "../errors.js";
import { closestMatch, listWords } from "./suggest.js";
import type { NodePath, Pos } from "./types.js";
import type { YamlTree } from "./yaml-tree.js";

/** `models[1].parameters.density`; the empty path is the whole manifest. */
export function formatPath(path: NodePath): string {
  let text = "";
  for (const segment of path) {
    text += typeof segment === "number" ? `[${segment}]` : text === "" ? segment : `.${segment}`;
  }
  return text === "" ? "the manifest" : text;
}

export function manifestError(file: string, pos: Pos, message: string, hint: string): HubmergeError {
  return new HubmergeError("E_MANIFEST", message, {
    where: { file, line: pos.line, column: pos.column },
    hint,
  });
}

/** What each field expects, for "must be …" messages (keyed by the field's name). */
const EXPECTED: Readonly<Record<string, string>> = {
  merge_method: "a method name such as `ties` or `linear`",
  model: "a model reference (`org/name`, `org/name@revision` or `./folder`)",
  base_model: "a model reference (`org/name`, `org/name@revision` or `./folder`)",
  models: "a list of `- model: …` entries",
  slices: "a list of `- sources: [...]` entries",
  modules:
    "a mapping of module names to `{models: [...]}` or `{slices: [...]}`, e.g. `text_decoder: {models: [...]}`",
  sources: "a list of `- model: …` entries with a `layer_range`",
  parameters: "a mapping of parameter names to values",
  hubmerge: "a mapping",
  output: "a mapping such as `{repo: org/name}`",
  card: "a mapping",
  tags: "a list of strings",
  layer_range: "a list `[start, end]` of layer indices (end exclusive)",
  repo: "the output repo id, `org/name`",
  private: "`true` or `false`",
  license: "a Hub license id such as `apache-2.0`",
  title: "a string",
  description: "a string",
  include_manifest: "`true` or `false`",
  allow_incompatible: "`true` or `false`",
  dtype: "`bfloat16`, `float16` or `float32`",
  out_dtype: "`bfloat16`, `float16` or `float32`",
  tokenizer_source: "`base`, `union` or a model reference",
  tokenizer: "a mapping such as `{source: union, tokens: {…}, pad_to_multiple_of: 64}`",
  tokens: "a mapping of token text to `{source: …, force: …}`",
  pad_to_multiple_of: "a whole number ≥ 1",
  force: "`true` or `false`",
  chat_template: "a template name such as `chatml`, or a Jinja template string",
  "models[]": "a mapping such as `{model: org/name, parameters: {…}}`",
  "slices[]": "a mapping such as `{sources: [...]}`",
  "sources[]": "a mapping such as `{model: org/name, layer_range: [0, 16]}`",
};

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  boolean: "`true` or `false`",
  array: "a list",
  object: "a mapping",
  int: "a whole number",
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date (quote it to make it a string)";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: NodePath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

interface Located {
  pos: Pos;
  message: string;
  hint: string;
}

/** The field's name (`density`), or `models[]` for an entry of a list. */
function fieldName(path: NodePath): string {
  const last = path[path.length - 1];
  if (typeof last === "string") return last;
  const list = path[path.length - 2];
  return typeof list === "string" ? `${list}[]` : "";
}

function describeTypeIssue(
  issue: z.core.$ZodIssueInvalidType,
  root: unknown,
): { message: string; hint: string } {
  const path = issue.path as NodePath;
  const value = valueAt(root, path);
  const field = fieldName(path);
  const expected = EXPECTED[field] ?? TYPE_WORDS[issue.expected] ?? issue.expected;
  if (value === undefined && typeof path[path.length - 1] === "string") {
    const parent = path.length === 1 ? "The manifest" : `\`${formatPath(path.slice(0, -1))}\``;
    return { message: `${parent} has no \`${field}\`.`, hint: `Add \`${field}:\` with ${expected}.` };
  }
  return {
    message: `\`${formatPath(path)}\` must be ${expected}, got ${describeValue(value)}.`,
    hint: `Write ${expected} here.`,
  };
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown, tree: YamlTree): Located {
  const path = issue.path as NodePath;
  const at = (): Pos => tree.nearest(path);
  switch (issue.code) {
    case "custom": {
      const params = (issue.params ?? {}) as { hint?: string; sentence?: boolean; subject?: number };
      const subject = formatPath(path.slice(0, path.length - (params.subject ?? 0)));
      const message = params.sentence ? issue.message : `\`${subject}\` ${issue.message}.`;
      return { pos: at(), message, hint: params.hint ?? "See docs/manifest.md for the accepted format." };
    }
    case "invalid_type":
      return { pos: at(), ...describeTypeIssue(issue, root) };
    case "invalid_value":
      return {
        pos: at(),
        message: `\`${formatPath(path)}\` must be ${listWords(issue.values.map(String))}, got ${describeValue(valueAt(root, path))}.`,
        hint: `Use one of ${listWords(issue.values.map(String))}.`,
      };
    case "too_small":
      return {
        pos: at(),
        message: `\`${formatPath(path)}\` is empty.`,
        hint:
          issue.origin === "array" ? `Give \`${fieldName(path)}\` at least one entry.` : "Give it a value.",
      };
    case "unrecognized_keys":
      return describeUnknownKey(issue, tree);
    default:
      return {
        pos: at(),
        message: `\`${formatPath(path)}\`: ${issue.message}.`,
        hint: "See docs/manifest.md.",
      };
  }
}

/** hubmerge's own blocks are strict: an unknown key there is an error, with a suggestion. */
function describeUnknownKey(issue: z.core.$ZodIssueUnrecognizedKeys, tree: YamlTree): Located {
  const path = issue.path as NodePath;
  const key = issue.keys[0] ?? "";
  // A token's settings sit under its own text: `tokenizer.tokens.<|im_start|>`.
  const field = path.length >= 3 && path[path.length - 2] === "tokens" ? "tokens{}" : fieldName(path);
  const known = SCHEMA_KEYS[field] ?? [];
  const suggestion = closestMatch(key, known);
  const where = path.length === 0 ? "the manifest" : `\`${formatPath(path)}\``;
  return {
    pos: tree.locateKey([...path, key]) ?? tree.nearest(path),
    message: `Unknown key \`${key}\` in ${where}${suggestion ? `; did you mean \`${suggestion}\`?` : "."}`,
    hint: suggestion ? `Rename it to \`${suggestion}\`.` : `Valid keys here: ${listWords(known)}.`,
  };
}

/** Keys of hubmerge's strict blocks, for suggestions (kept beside the schema in docs/manifest.md). */
export const SCHEMA_KEYS: Readonly<Record<string, readonly string[]>> = {
  hubmerge: ["output", "seed", "dare_rescale", "allow_incompatible", "card"],
  output: ["repo", "private", "license", "overwrite"],
  card: ["title", "description", "tags", "include_manifest"],
  tokenizer: ["source", "tokens", "pad_to_multiple_of"],
  "tokens{}": ["source", "force"],
};

function compare(a: Pos, b: Pos): number {
  return a.line - b.line || a.column - b.column;
}

/** The error for the issue that comes first in the file. */
export function firstIssueError(
  issues: z.core.$ZodIssue[],
  root: unknown,
  tree: YamlTree,
  file: string,
): HubmergeError {
  const located = issues.map((issue) => describeIssue(issue, root, tree));
  located.sort((a, b) => compare(a.pos, b.pos));
  const first = located[0] ?? { pos: { line: 1, column: 1 }, message: "The manifest is invalid.", hint: "" };
  return manifestError(file, first.pos, first.message, first.hint);
}
