/**
 * The pipeline's first step: a manifest file (or its text) parsed, validated, its models listed
 * and its text hashed. Nothing else is read, so every later stage starts from the same facts.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseMergeGraph, type MergeGraph, type MergeStep } from "../manifest/multi-doc.js";
import { loadManifest, parseManifest } from "../manifest/parse.js";
import { referencedModels } from "../manifest/referenced-models.js";
import type { Manifest } from "../manifest/types.js";
import { validateManifest } from "../manifest/validate.js";
import { methodRegistry } from "../merge/methods/registry.js";
import type { MergeMethod } from "../merge/types.js";
import { sameModelRef, type ModelRef } from "../model-ref.js";
import { confineManifest } from "../source/workspace.js";

/** A manifest file's path, or its text and the path it stands for (e.g. one read from GitHub). */
export type ManifestInput = string | { text: string; path: string };

/** A manifest read and validated once, with what every later stage asks of it. */
export interface ReadManifest {
  manifest: Manifest;
  method: MergeMethod;
  /** Every model it names, once each, in manifest order. */
  refs: ModelRef[];
  /** SHA-256 of its text: what the run record and the lockfile remember it by. */
  sha256: string;
}

/**
 * manifest → parsed, validated, its models listed and its text hashed; nothing else is read.
 * With `workspace`, a manifest file that resolves outside it (a symlink) is refused unread.
 */
export async function readManifest(
  from: ManifestInput,
  options: { workspace?: string } = {},
): Promise<ReadManifest> {
  if (typeof from === "string") await confineManifest(options.workspace, from);
  const manifest = typeof from === "string" ? await loadManifest(from) : parseManifest(from.text, from.path);
  return readManifestOf(manifest);
}

function readManifestOf(manifest: Manifest): ReadManifest {
  validateManifest(manifest, methodRegistry);
  const method = methodRegistry.get(manifest.mergeMethod)!;
  const sha256 = createHash("sha256").update(manifest.text).digest("hex");
  return { manifest, method, refs: referencedModels(manifest), sha256 };
}

/** The manifest's own warnings (ignored keys, parameters a method ignores), as `file:line:column: message`. */
export function manifestWarnings(manifest: Manifest): string[] {
  return manifest.warnings.map((w) => `${manifest.file}:${w.pos.line}:${w.pos.column}: ${w.message}`);
}

/** A merge of a file, read as `readManifest` reads a one-document manifest. */
export interface GraphStep extends MergeStep {
  read: ReadManifest;
  final: boolean;
}

/** A manifest file as its merges: one step for an ordinary manifest, several for mergekit-multi. */
export interface ReadGraph {
  file: string;
  steps: GraphStep[];
  /** SHA-256 of the whole file: a multi-merge file is one unit for the lockfile. */
  sha256: string;
  /** The models the file reads from outside it (its merges' own names left out), once each. */
  refs: ModelRef[];
}

/** A file → its merges in run order, each parsed and validated; nothing else is read. */
export async function readMergeGraph(
  from: ManifestInput,
  options: { workspace?: string } = {},
): Promise<ReadGraph> {
  const path = typeof from === "string" ? from : from.path;
  if (typeof from === "string") await confineManifest(options.workspace, from);
  let text: string;
  try {
    text = typeof from === "string" ? await readFile(from, "utf8") : from.text;
  } catch {
    // loadManifest words every way a file cannot be read.
    return graphOfOne(await readManifest(from, options));
  }
  const graph: MergeGraph | undefined = parseMergeGraph(text, path);
  if (graph === undefined) return graphOfOne(await readManifest({ text, path }));
  const steps = graph.steps.map((step) => ({
    ...step,
    read: readManifestOf(step.manifest),
    final: step === graph.final,
  }));
  const names = new Set(steps.map((step) => step.name));
  const refs: ModelRef[] = [];
  for (const ref of steps.flatMap((step) => step.read.refs)) {
    if (!names.has(ref.raw) && !refs.some((known) => sameModelRef(known, ref))) refs.push(ref);
  }
  return { file: path, steps, sha256: createHash("sha256").update(text).digest("hex"), refs };
}

function graphOfOne(read: ReadManifest): ReadGraph {
  const { manifest, sha256, refs } = read;
  const step = { manifest, uses: [], pos: { line: 1, column: 1 }, read, final: true };
  return { file: manifest.file, steps: [step], sha256, refs };
}
