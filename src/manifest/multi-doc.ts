/**
 * Multi-document manifests, as mergekit-multi (`mergekit-multimerge`) reads them: several YAML
 * documents, each a merge config with a `name:`, where a later merge may name an earlier one as a
 * model. At most one document has no name: the final merge. This module splits the file, parses
 * each document as its own manifest (with the file's line numbers), and orders the merges so
 * that every intermediate is made before it is read. Running them is the pipeline's job.
 */
import { isMap, isScalar, LineCounter, parseAllDocuments } from "yaml";
import type { Document, Pair } from "yaml";
import { HubmergeError } from "../errors.js";
import type { ModelRef } from "../model-ref.js";
import { manifestError } from "./issues.js";
import { parseManifest } from "./parse.js";
import { closestMatch } from "./suggest.js";
import type { Manifest, Pos } from "./types.js";

/** One merge of a multi-document file. */
export interface MergeStep {
  /** Its `name:`; undefined for the unnamed (final) merge. */
  name?: string;
  /** The document parsed as a manifest; references to other merges still read as written. */
  manifest: Manifest;
  /** Names of the merges of this file it reads, in the order it names them. */
  uses: string[];
  /** Where the document starts. */
  pos: Pos;
}

export interface MergeGraph {
  file: string;
  /** Every merge, dependencies first (file order where the dependencies allow it). */
  steps: MergeStep[];
  /** The merge the run produces: the unnamed one, else the last one no other merge reads. */
  final: MergeStep;
}

/** A merge name becomes a folder name (as in mergekit's intermediate directory). */
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,95}$/;
const MULTI_HINT =
  "Each document of a mergekit-multi file is one merge config with a `name:`; see docs/manifest.md.";

interface RawDoc {
  name?: string;
  namePos?: Pos;
  /** The file's text with everything outside this document (and its `name:` pair) blanked. */
  text: string;
  pos: Pos;
}

/** Spaces for every character but line breaks, so that lines and columns stay those of the file. */
function blank(text: string): string {
  return text.replace(/[^\r\n]/g, " ");
}

function namePair(doc: Document): Pair | undefined {
  if (!isMap(doc.contents)) return undefined;
  return doc.contents.items.find((pair) => isScalar(pair.key) && pair.key.value === "name");
}

function readName(pair: Pair, file: string, lines: LineCounter): { name: string; pos: Pos } {
  const node = pair.value;
  const offset = isScalar(node) ? node.range?.[0] : isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  const at = lines.linePos(offset ?? 0);
  const pos = { line: at.line, column: at.col };
  const name = isScalar(node) ? node.value : undefined;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw manifestError(
      file,
      pos,
      `A merge's \`name:\` must be a short name of letters, digits, \`.\`, \`_\` and \`-\`; got ${JSON.stringify(name ?? null)}.`,
      "mergekit-multi stores each named merge in a folder of that name: write e.g. `name: math-merge`.",
    );
  }
  return { name, pos };
}

/** The documents of a file, or undefined when it holds just one (an ordinary manifest). */
export function splitDocuments(text: string, file: string): RawDoc[] | undefined {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { version: "1.1", lineCounter: lines });
  if (!Array.isArray(docs) || docs.length < 2) return undefined;
  return docs.map((doc) => {
    const [start, , end] = doc.range;
    let body = text.slice(start, end);
    const pair = namePair(doc);
    let named: { name: string; pos: Pos } | undefined;
    if (pair && isScalar(pair.key) && !(isMap(doc.contents) && doc.contents.flow)) {
      named = readName(pair, file, lines);
      // The name is the file's business, not the merge's: blanked, so the manifest never sees it.
      const from = pair.key.range![0] - start;
      const to = (isScalar(pair.value) ? pair.value.range![1] : pair.key.range![1]) - start;
      body = body.slice(0, from) + blank(body.slice(from, to)) + body.slice(to);
    }
    const at = lines.linePos(doc.contents?.range?.[0] ?? start);
    return {
      ...(named && { name: named.name, namePos: named.pos }),
      text: blank(text.slice(0, start)) + body,
      pos: { line: at.line, column: at.col },
    };
  });
}

/** The name a reference would have if it named a merge of this file (mergekit ignores the revision). */
function nameOf(ref: ModelRef): string {
  return ref.raw.split("@")[0]!;
}

interface RefSite {
  raw: string;
  ref?: ModelRef;
  pos: Pos | undefined;
}

function refSites(manifest: Manifest): RefSite[] {
  const sites: RefSite[] = [];
  if (manifest.baseModel) {
    sites.push({
      raw: manifest.baseModel.raw,
      ref: manifest.baseModel,
      pos: manifest.locate(["base_model"]),
    });
  }
  // The top-level inputs, then each module's.
  for (const { models, slices } of [manifest, ...(manifest.modules ?? [])]) {
    models?.forEach((m) => sites.push({ raw: m.ref.raw, ref: m.ref, pos: m.pos }));
    slices?.forEach((s) => {
      s.sources.forEach((src) => sites.push({ raw: src.ref.raw, ref: src.ref, pos: src.pos }));
      if (s.baseModel) sites.push({ raw: s.baseModel.raw, ref: s.baseModel, pos: s.pos });
    });
  }
  // The parsed tokenizer source is what the merge reads (`tokenizer_source` or `tokenizer.source`).
  const tokenizer = manifest.tokenizer;
  if (tokenizer && typeof tokenizer.source === "object") {
    const path = tokenizer.key === "tokenizer" ? ["tokenizer", "source"] : ["tokenizer_source"];
    sites.push({ raw: tokenizer.source.raw, ref: tokenizer.source, pos: manifest.locate(path) });
  }
  return sites;
}

function usedNames(manifest: Manifest, names: ReadonlySet<string>, docPos: Pos): string[] {
  const uses: string[] = [];
  for (const site of refSites(manifest)) {
    const name = site.ref ? nameOf(site.ref) : site.raw;
    const pos = site.pos ?? docPos;
    if (names.has(name)) {
      if (site.raw !== name) {
        throw manifestError(
          manifest.file,
          pos,
          `\`${site.raw}\` pins a revision of the merge \`${name}\` of this file; an intermediate merge has none.`,
          `Write just \`${name}\`.`,
        );
      }
      if (!uses.includes(name)) uses.push(name);
      continue;
    }
    const typo = site.ref?.kind === "hub" && !name.includes("/") ? closestMatch(name, names) : undefined;
    if (typo !== undefined) {
      throw manifestError(
        manifest.file,
        pos,
        `\`${name}\` is not the name of a merge in this file (and not an \`org/name\` Hub repo).`,
        `Did you mean \`${typo}\`?`,
      );
    }
  }
  return uses;
}

function parseSteps(docs: RawDoc[], file: string): MergeStep[] {
  const names = new Set<string>();
  let unnamed: RawDoc | undefined;
  for (const doc of docs) {
    if (doc.name === undefined) {
      if (unnamed) {
        throw manifestError(
          file,
          doc.pos,
          "This file has two documents without `name:`; a mergekit-multi file has at most one unnamed (final) merge.",
          "Give each intermediate merge a `name:` that later merges use as a model.",
        );
      }
      unnamed = doc;
    } else if (names.has(doc.name)) {
      throw manifestError(
        file,
        doc.namePos!,
        `Two merges are named \`${doc.name}\`.`,
        "Give each merge its own name.",
      );
    } else names.add(doc.name);
  }
  return docs.map((doc) => {
    const manifest = parseManifest(doc.text, file);
    return {
      ...(doc.name !== undefined && { name: doc.name }),
      manifest,
      uses: usedNames(manifest, names, doc.pos),
      pos: doc.namePos ?? doc.pos,
    };
  });
}

/** Dependencies first; a cycle is an error at the first merge (in file order) that is on one. */
function order(steps: MergeStep[], file: string): MergeStep[] {
  const byName = new Map(steps.filter((s) => s.name !== undefined).map((s) => [s.name!, s]));
  const done = new Set<MergeStep>();
  const ordered: MergeStep[] = [];
  const visit = (step: MergeStep, path: MergeStep[]): void => {
    if (done.has(step)) return;
    if (path.includes(step)) {
      const cycle = [...path.slice(path.indexOf(step)), step].map((s) => `\`${s.name ?? "(final)"}\``);
      throw manifestError(
        file,
        step.pos,
        `The merges ${cycle.join(" → ")} read each other in a cycle; no order can make them.`,
        "A merge may only use merges that do not (directly or through others) use it.",
      );
    }
    for (const name of step.uses) visit(byName.get(name)!, [...path, step]);
    done.add(step);
    ordered.push(step);
  };
  steps.forEach((step) => visit(step, []));
  return ordered;
}

/** Parses a multi-document file into its ordered merges; undefined for a one-document manifest. */
export function parseMergeGraph(text: string, file: string): MergeGraph | undefined {
  const docs = splitDocuments(text, file);
  if (docs === undefined) return undefined;
  const steps = order(parseSteps(docs, file), file);
  const used = new Set(steps.flatMap((s) => s.uses));
  const final =
    steps.find((s) => s.name === undefined) ??
    [...steps].reverse().find((s) => !used.has(s.name!)) ??
    steps[steps.length - 1];
  if (final === undefined) {
    throw new HubmergeError("E_MANIFEST", "The file holds no merge.", { where: { file }, hint: MULTI_HINT });
  }
  return { file, steps, final };
}

/** Where each intermediate merge was made: a local folder, or the published repo at its commit. */
export type MadeMerges = ReadonlyMap<string, ModelRef>;

function swap(ref: ModelRef, made: MadeMerges): ModelRef {
  const to = made.get(nameOf(ref));
  return to === undefined || ref.raw !== nameOf(ref) ? ref : to;
}

/** `models` and `slices` (of the manifest or of one module) with their references swapped. */
function swapInputs(
  inputs: Pick<Manifest, "models" | "slices">,
  made: MadeMerges,
): Pick<Manifest, "models" | "slices"> {
  return {
    ...(inputs.models && { models: inputs.models.map((m) => ({ ...m, ref: swap(m.ref, made) })) }),
    ...(inputs.slices && {
      slices: inputs.slices.map((s) => ({
        ...s,
        ...(s.baseModel && { baseModel: swap(s.baseModel, made) }),
        sources: s.sources.map((src) => ({ ...src, ref: swap(src.ref, made) })),
      })),
    }),
  };
}

/** The step's manifest with every reference to an earlier merge pointing where it was made. */
export function withIntermediates(manifest: Manifest, made: MadeMerges): Manifest {
  const tokenizer = manifest.tokenizerSource;
  const madeTokenizer = tokenizer === undefined ? undefined : made.get(tokenizer);
  const tokenizerRef =
    manifest.tokenizer && typeof manifest.tokenizer.source === "object"
      ? manifest.tokenizer.source
      : undefined;
  return {
    ...manifest,
    ...(manifest.baseModel && { baseModel: swap(manifest.baseModel, made) }),
    ...swapInputs(manifest, made),
    ...(manifest.modules && {
      modules: manifest.modules.map((module) => ({ ...module, ...swapInputs(module, made) })),
    }),
    // The parsed source is what the merge reads; the text is kept in step for messages.
    ...(manifest.tokenizer &&
      tokenizerRef && { tokenizer: { ...manifest.tokenizer, source: swap(tokenizerRef, made) } }),
    ...(madeTokenizer && {
      tokenizerSource:
        madeTokenizer.kind === "local"
          ? madeTokenizer.path!
          : `${madeTokenizer.repo}@${madeTokenizer.revision}`,
    }),
  };
}
