/**
 * Keys in the mergekit part of a manifest. mergekit ignores keys it does not know, so hubmerge
 * does too — with a warning — except when the key is clearly a typo of a known one (a misspelt
 * `parameters` would silently drop the settings), or a mergekit feature hubmerge lacks.
 * Also decides between `models` and `slices`.
 */
import { formatPath, manifestError } from "./issues.js";
import { closestMatch } from "./suggest.js";
import type { ManifestWarning, NodePath } from "./types.js";
import type { YamlTree } from "./yaml-tree.js";

interface KeyContext {
  known: readonly string[];
  /** mergekit keys hubmerge does not support yet, with how to do without them. */
  unsupported?: Readonly<Record<string, { what: string; hint: string }>>;
}

const TOP: KeyContext = {
  known: [
    "merge_method",
    "base_model",
    "models",
    "slices",
    "parameters",
    "dtype",
    "out_dtype",
    "tokenizer_source",
    "tokenizer",
    "chat_template",
    "hubmerge",
  ],
  unsupported: {
    modules: { what: "Multi-module merges (`modules`)", hint: "Use `models` or `slices` at the top level." },
  },
};
const MODEL_ENTRY: KeyContext = { known: ["model", "parameters"] };
const SLICE: KeyContext = {
  known: ["sources", "parameters"],
  unsupported: {
    base_model: { what: "A per-slice `base_model`", hint: "Set `base_model` once at the top level." },
    residual_weight: { what: "`residual_weight`", hint: "Remove it; hubmerge does not implement it." },
  },
};
const SOURCE: KeyContext = { known: ["model", "layer_range", "parameters"] };
const FILTER_ENTRY: KeyContext = { known: ["filter", "value"] };

type Plain = Record<string, unknown>;

/**
 * Names that reach an object's prototype when used as a property name. They are never mergekit
 * keys, and code further on that indexes a mapping by them would read the prototype instead of
 * the manifest, so they are refused outright instead of being warned about and passed along.
 */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set([
  "prototype",
  ...Object.getOwnPropertyNames(Object.prototype),
]);

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export class KeyChecker {
  readonly warnings: ManifestWarning[] = [];

  constructor(
    private readonly tree: YamlTree,
    private readonly file: string,
  ) {}

  /** Checks every mergekit-defined mapping of the manifest (`root` is its plain JS value). */
  checkAll(root: Plain): void {
    this.checkKeys(root, [], TOP);
    this.checkModelsOrSlices(root);
    this.checkParams(root.parameters, ["parameters"]);
    this.eachEntry(root.models, ["models"], (entry, path) => {
      this.checkKeys(entry, path, MODEL_ENTRY);
      this.checkParams(entry.parameters, [...path, "parameters"]);
    });
    this.eachEntry(root.slices, ["slices"], (slice, path) => {
      this.checkKeys(slice, path, SLICE);
      this.checkParams(slice.parameters, [...path, "parameters"]);
      this.eachEntry(slice.sources, [...path, "sources"], (source, sourcePath) => {
        this.checkKeys(source, sourcePath, SOURCE);
        this.checkParams(source.parameters, [...sourcePath, "parameters"]);
      });
    });
  }

  private eachEntry(list: unknown, path: NodePath, visit: (entry: Plain, path: NodePath) => void): void {
    if (!Array.isArray(list)) return;
    list.forEach((entry, index) => {
      if (isPlain(entry)) visit(entry, [...path, index]);
    });
  }

  private checkParams(params: unknown, path: NodePath): void {
    if (!isPlain(params)) return;
    for (const [name, setting] of Object.entries(params)) {
      if (PROTOTYPE_NAMES.has(name)) this.refuseReserved(name, [...path, name], `in \`${formatPath(path)}\``);
      const entries = Array.isArray(setting) ? setting : [setting];
      entries.forEach((entry, index) => {
        if (isPlain(entry)) this.checkKeys(entry, [...path, name, index], FILTER_ENTRY);
      });
    }
  }

  private checkKeys(mapping: Plain, path: NodePath, context: KeyContext): void {
    const where = path.length === 0 ? "at the top level" : `in \`${formatPath(path)}\``;
    for (const key of Object.keys(mapping)) {
      if (context.known.includes(key)) continue;
      if (PROTOTYPE_NAMES.has(key)) this.refuseReserved(key, [...path, key], where);
      const pos = this.tree.locateKey([...path, key]) ?? this.tree.nearest(path);
      // Own keys only: `constructor` or `toString` must not find Object.prototype's members.
      const unsupported =
        context.unsupported !== undefined && Object.hasOwn(context.unsupported, key)
          ? context.unsupported[key]
          : undefined;
      if (unsupported !== undefined) {
        throw manifestError(
          this.file,
          pos,
          `${unsupported.what} is not supported by hubmerge yet.`,
          unsupported.hint,
        );
      }
      const suggestion = closestMatch(key, [...context.known, ...Object.keys(context.unsupported ?? {})]);
      if (suggestion !== undefined) {
        throw manifestError(
          this.file,
          pos,
          `Unknown key \`${key}\` ${where}; did you mean \`${suggestion}\`?`,
          `Rename it to \`${suggestion}\` (mergekit would silently ignore the misspelt key).`,
        );
      }
      this.warnings.push({ message: `Unknown key \`${key}\` ${where} is ignored.`, pos });
    }
  }

  private refuseReserved(key: string, path: NodePath, where: string): never {
    const pos = this.tree.locateKey(path) ?? this.tree.nearest(path.slice(0, -1));
    throw manifestError(
      this.file,
      pos,
      `Unknown key \`${key}\` ${where}.`,
      "Remove it: it is not a mergekit or hubmerge key (names of JavaScript object internals are refused).",
    );
  }

  /** Exactly one of `models` and `slices`, and not empty. */
  private checkModelsOrSlices(root: Plain): void {
    const present = (["models", "slices"] as const).filter((key) => key in root);
    for (const key of present) {
      if (root[key] === null || (Array.isArray(root[key]) && root[key].length === 0)) {
        const pos = this.tree.locate([key]) ?? this.tree.nearest([]);
        const example =
          key === "models" ? "`- model: org/name`" : "`- sources: [{model: org/name, layer_range: [0, 32]}]`";
        throw manifestError(
          this.file,
          pos,
          `\`${key}\` is empty.`,
          `Add at least one entry, e.g. ${example}.`,
        );
      }
    }
    if (present.length === 2) {
      const [first, second] = present
        .map((key) => ({ key, pos: this.tree.locateKey([key]) ?? this.tree.nearest([]) }))
        .sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
      if (first === undefined || second === undefined) return;
      throw manifestError(
        this.file,
        second.pos,
        `The manifest has both \`models\` and \`slices\`; use one (\`${first.key}\` comes first).`,
        "Use `models` to merge whole models, or `slices` with `layer_range`s to pick layers, and remove the other.",
      );
    }
    if (present.length === 0) {
      throw manifestError(
        this.file,
        this.tree.nearest([]),
        "The manifest has neither `models` nor `slices`.",
        "Add `models:` with one `- model: org/name` entry per model (or `slices:` to pick layer ranges).",
      );
    }
  }
}
