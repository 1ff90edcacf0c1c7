/**
 * Keys in the mergekit part of a manifest. mergekit ignores keys it does not know, so hubmerge
 * does too — with a warning — except when the key is clearly a typo of a known one (a misspelt
 * `parameters` would silently drop the settings), or a mergekit feature hubmerge lacks.
 * Also decides between `models`, `slices` and `modules` (and, in each module, `models` and `slices`).
 */
import { formatPath, manifestError } from "./issues.js";
import { closestMatch } from "./suggest.js";
import type { ManifestWarning, NodePath, Pos } from "./types.js";
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
    "modules",
    "parameters",
    "dtype",
    "out_dtype",
    "tokenizer_source",
    "tokenizer",
    "chat_template",
    "hubmerge",
  ],
};
/** One module of `modules:` (mergekit's `OutputModuleDefinition`). */
const MODULE: KeyContext = { known: ["models", "slices", "parameters"] };
const MODEL_ENTRY: KeyContext = { known: ["model", "parameters"] };
const SLICE: KeyContext = { known: ["sources", "base_model", "residual_weight", "parameters"] };
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
    this.checkInputs(root, []);
    if (isPlain(root.modules)) {
      for (const [name, module] of Object.entries(root.modules)) this.checkModule(name, module);
    }
  }

  /** The `models` or `slices` of the manifest or of one module (at `path`). */
  private checkInputs(holder: Plain, path: NodePath): void {
    this.eachEntry(holder.models, [...path, "models"], (entry, entryPath) => {
      this.checkKeys(entry, entryPath, MODEL_ENTRY);
      this.checkParams(entry.parameters, [...entryPath, "parameters"]);
    });
    this.eachEntry(holder.slices, [...path, "slices"], (slice, slicePath) => {
      this.checkKeys(slice, slicePath, SLICE);
      if ("residual_weight" in slice) this.warnResidualWeight(slicePath);
      this.checkParams(slice.parameters, [...slicePath, "parameters"]);
      this.eachEntry(slice.sources, [...slicePath, "sources"], (source, sourcePath) => {
        this.checkKeys(source, sourcePath, SOURCE);
        this.checkParams(source.parameters, [...sourcePath, "parameters"]);
      });
    });
  }

  private checkModule(name: string, module: unknown): void {
    const path = ["modules", name];
    if (PROTOTYPE_NAMES.has(name)) this.refuseReserved(name, path, "in `modules`");
    if (module !== null && module !== undefined && !isPlain(module)) return; // the schema words the type
    const holder = module ?? {};
    this.checkKeys(holder, path, MODULE);
    const present = (["models", "slices"] as const).filter((key) => key in holder);
    for (const key of present) this.refuseEmpty(holder, [...path, key]);
    if (present.length !== 1) {
      const what = present.length === 0 ? "neither `models` nor `slices`" : "both `models` and `slices`";
      const pos =
        present.length === 2
          ? this.laterKey([...path, "models"], [...path, "slices"]).second.pos
          : this.keyPos(path);
      throw manifestError(
        this.file,
        pos,
        `Must specify either output slices or models to merge (mergekit's rule): module \`${name}\` has ${what}.`,
        `Give \`${name}\` one of \`models:\` (the whole module of each model, e.g. \`models: [{model: org/name}]\`) or \`slices:\` (layer ranges within the module).`,
      );
    }
    this.checkParams(holder.parameters, [...path, "parameters"]);
    this.checkInputs(holder, path);
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

  /**
   * mergekit declares a slice's `residual_weight` and never reads it, so it changes nothing there
   * either; the schema still checks that it is a number, as mergekit's does.
   */
  private warnResidualWeight(slicePath: NodePath): void {
    this.warnings.push({
      message: `\`residual_weight\` in \`${formatPath(slicePath)}\` has no effect (mergekit declares it but never uses it either).`,
      pos: this.keyPos([...slicePath, "residual_weight"]),
    });
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

  /** Exactly one of `models`, `slices` and `modules`, and not empty. */
  private checkModelsOrSlices(root: Plain): void {
    const present = (["models", "slices", "modules"] as const).filter((key) => key in root);
    for (const key of present) this.refuseEmpty(root, [key]);
    const rule = "Exactly one of 'models', 'slices', or 'modules' must be present (mergekit's rule)";
    if (present.length >= 2) {
      const [a, b] = present as [string, string];
      const { first, second } = this.laterKey([a], [b]);
      throw manifestError(
        this.file,
        second.pos,
        `${rule}: the manifest has both \`${a}\` and \`${b}\` (\`${first.key}\` comes first).`,
        "Use `models` to merge whole models, `slices` with `layer_range`s to pick layers, or `modules` to merge each part of a multi-module model (a VLM's text decoder, vision tower, …) on its own; remove the others.",
      );
    }
    if (present.length === 0) {
      throw manifestError(
        this.file,
        this.tree.nearest([]),
        `${rule}: the manifest has neither \`models\` nor \`slices\` nor \`modules\`.`,
        "Add `models:` with one `- model: org/name` entry per model (or `slices:` to pick layer ranges).",
      );
    }
  }

  /** `models: []`, `slices:` with nothing after it, `modules: {}`. */
  private refuseEmpty(holder: Plain, path: NodePath): void {
    const key = path[path.length - 1] as "models" | "slices" | "modules";
    const value = holder[key];
    const empty =
      value === null ||
      (Array.isArray(value) && value.length === 0) ||
      (isPlain(value) && Object.keys(value).length === 0);
    if (!empty) return;
    const pos = this.tree.locate(path) ?? this.tree.nearest(path.slice(0, -1));
    const example = {
      models: "`- model: org/name`",
      slices: "`- sources: [{model: org/name, layer_range: [0, 32]}]`",
      modules: "`text_decoder: {models: [{model: org/name}]}`",
    }[key];
    throw manifestError(
      this.file,
      pos,
      `\`${formatPath(path)}\` is empty.`,
      `Add at least one entry, e.g. ${example}.`,
    );
  }

  private keyPos(path: NodePath): Pos {
    return this.tree.locateKey(path) ?? this.tree.nearest(path);
  }

  /** Of two keys, the one written first and the one written second. */
  private laterKey(a: NodePath, b: NodePath): Record<"first" | "second", { key: string; pos: Pos }> {
    const [first, second] = [a, b]
      .map((path) => ({ key: String(path[path.length - 1]), pos: this.keyPos(path) }))
      .sort((x, y) => x.pos.line - y.pos.line || x.pos.column - y.pos.column);
    return { first: first!, second: second! };
  }
}
