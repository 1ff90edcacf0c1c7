/**
 * Manifest text → typed `Manifest`: YAML syntax, the document's shape (zod), mergekit's key rules
 * and model references, every problem reported at its line and column. Method-specific checks
 * (does `ties` have a base model, is `density` in range) live in validate.ts.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { HubmergeError } from "../errors.js";
import { parseDType } from "./dtype.js";
import { firstIssueError, manifestError } from "./issues.js";
import { KeyChecker } from "./keys.js";
import { buildManifestSchema } from "./schema.js";
import { tokenizerSettings } from "./tokenizer-settings.js";
import type { RawManifest } from "./schema.js";
import type { Manifest, ManifestWarning, ModelEntry, ModuleSpec, NodePath, Slice } from "./types.js";
import { YamlTree } from "./yaml-tree.js";

/** Manifests are a few KiB; anything this large is not one (and must not cost a huge parse). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function checkSize(text: string, file: string): void {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_MANIFEST_BYTES) {
    throw manifestError(
      file,
      { line: 1, column: 1 },
      `The manifest is ${bytes} bytes; the limit is ${MAX_MANIFEST_BYTES}.`,
      "Check that this is the right file: a manifest is a short YAML config.",
    );
  }
}

/** The document's JS value, which must be a mapping. */
function rootMapping(tree: YamlTree, file: string): Plain {
  let root: unknown;
  try {
    root = tree.toJS();
  } catch (error) {
    throw manifestError(
      file,
      { line: 1, column: 1 },
      `The manifest's YAML cannot be read: ${String(error)}`,
      "Use fewer YAML aliases (`*name`); a manifest rarely needs any.",
    );
  }
  if (!isPlain(root)) {
    const what =
      root === null || root === undefined ? "empty" : Array.isArray(root) ? "a list" : "a single value";
    throw manifestError(
      file,
      tree.nearest([]),
      `The manifest is ${what}; it must be a mapping with \`merge_method\`, \`models\` (or \`slices\`) and so on.`,
      "Start from the example in docs/manifest.md.",
    );
  }
  return root;
}

/** Plain YAML numbers lose precision above 2^53; the seed is read from its source text instead. */
function useSeedSourceText(root: Plain, tree: YamlTree): void {
  const block = root.hubmerge;
  if (isPlain(block) && typeof block.seed === "number") {
    block.seed = tree.sourceText(["hubmerge", "seed"]) ?? block.seed;
  }
}

function dtypeWarnings(root: Plain, tree: YamlTree): ManifestWarning[] {
  const warnings: ManifestWarning[] = [];
  for (const key of ["dtype", "out_dtype"]) {
    const name = root[key];
    const parsed = typeof name === "string" ? parseDType(name) : undefined;
    if (parsed !== undefined && !parsed.mergekitName) {
      warnings.push({
        message: `\`${key}: ${String(name)}\` means ${parsed.dtype}; write \`${parsed.dtype}\` so the file also runs in mergekit.`,
        pos: tree.nearest([key]),
      });
    }
  }
  return warnings;
}

function assemble(raw: RawManifest, tree: YamlTree, base: Omit<Manifest, keyof RawManifestFields>): Manifest {
  const models = raw.models && modelEntries(raw.models, ["models"], tree);
  const slices = raw.slices && sliceList(raw.slices, ["slices"], tree);
  return {
    ...base,
    mergeMethod: raw.merge_method,
    ...(raw.base_model !== undefined && { baseModel: raw.base_model }),
    ...(models !== undefined && { models }),
    ...(slices !== undefined && { slices }),
    ...(raw.modules !== undefined && { modules: moduleList(raw.modules, tree) }),
    parameters: raw.parameters,
    ...(raw.dtype !== undefined && { dtype: raw.dtype }),
    ...(raw.out_dtype !== undefined && { outDtype: raw.out_dtype }),
    ...(raw.tokenizer_source !== undefined && { tokenizerSource: raw.tokenizer_source }),
    ...(raw.chat_template !== undefined && { chatTemplate: raw.chat_template }),
    hubmerge: raw.hubmerge,
  };
}

type RawModels = NonNullable<RawManifest["models"]>;
type RawSlices = NonNullable<RawManifest["slices"]>;

function modelEntries(raw: RawModels, path: NodePath, tree: YamlTree): ModelEntry[] {
  return raw.map((entry, i) => ({
    ref: entry.model,
    parameters: entry.parameters,
    pos: tree.nearest([...path, i]),
  }));
}

function sliceList(raw: RawSlices, path: NodePath, tree: YamlTree): Slice[] {
  return raw.map((slice, s) => ({
    ...(slice.base_model !== undefined && { baseModel: slice.base_model }),
    parameters: slice.parameters,
    pos: tree.nearest([...path, s]),
    sources: slice.sources.map((source, k) => ({
      ref: source.model,
      layerRange: source.layer_range,
      parameters: source.parameters,
      pos: tree.nearest([...path, s, "sources", k]),
    })),
  }));
}

/** Modules in file order (a JS object would put a module named like a number first). */
function moduleList(raw: NonNullable<RawManifest["modules"]>, tree: YamlTree): ModuleSpec[] {
  const modules = Object.entries(raw).map(([name, module]): ModuleSpec => {
    const path = ["modules", name];
    return {
      name,
      ...(module.models !== undefined && { models: modelEntries(module.models, [...path, "models"], tree) }),
      ...(module.slices !== undefined && { slices: sliceList(module.slices, [...path, "slices"], tree) }),
      parameters: module.parameters,
      pos: tree.locateKey(path) ?? tree.nearest(path),
    };
  });
  return modules.sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
}

type RawManifestFields = Pick<
  Manifest,
  | "mergeMethod"
  | "baseModel"
  | "models"
  | "slices"
  | "modules"
  | "parameters"
  | "dtype"
  | "outDtype"
  | "tokenizerSource"
  | "chatTemplate"
  | "hubmerge"
>;

/** Parses and checks a manifest's text; `file` names it in errors and anchors local model paths. */
export function parseManifest(text: string, file: string): Manifest {
  checkSize(text, file);
  const tree = YamlTree.parse(text, file);
  const root = rootMapping(tree, file);
  const keys = new KeyChecker(tree, file);
  keys.checkAll(root);
  useSeedSourceText(root, tree);
  const dir = dirname(resolve(file));
  const result = buildManifestSchema(dir).safeParse(root);
  if (!result.success) throw firstIssueError(result.error.issues, root, tree, file);
  const warnings = [...tree.warnings(), ...keys.warnings, ...dtypeWarnings(root, tree)];
  const tokenizer = tokenizerSettings(result.data, tree, file, dir);
  return assemble(result.data, tree, {
    ...(tokenizer !== undefined && { tokenizer }),
    file,
    dir,
    text,
    warnings,
    locate: (path) => tree.locate(path),
    locateKey: (path) => tree.locateKey(path),
  });
}

/** Reads and parses a manifest file. */
export async function loadManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === "ENOENT";
    throw new HubmergeError(
      "E_MANIFEST",
      missing ? `Manifest not found: ${path}` : `Cannot read manifest ${path} (${code ?? String(error)}).`,
      {
        where: { file: path },
        hint: missing
          ? "Check the path (relative paths start from the current directory), or create the manifest: see docs/manifest.md."
          : "Check that the path is a readable file, not a folder.",
        cause: error,
      },
    );
  }
  return parseManifest(text, path);
}
