/**
 * The manifest's YAML document with positions: parses the text (YAML 1.1, like mergekit's
 * PyYAML, so `yes`/`on` are booleans) and maps any node path to a 1-based line and column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node, Pair } from "yaml";
import { HubmergeError } from "../errors.js";
import type { NodePath, Pos } from "./types.js";
import { unclosedFlowStart } from "./unclosed-flow.js";

/** Aliases may expand to at most this many nodes (a "billion laughs" file fails instead). */
const MAX_ALIAS_COUNT = 100;

const SYNTAX_HINTS: Record<string, string> = {
  DUPLICATE_KEY: "Remove or rename one of the two keys; YAML keys must be unique in a mapping.",
  MULTIPLE_DOCS:
    "Several documents make a mergekit-multi file (one merge per document, each with a `name:`): `hubmerge plan` and `hubmerge merge` run it; elsewhere keep one document per manifest.",
  TAB_AS_INDENT: "Indent with spaces; YAML does not allow tabs for indentation.",
};
const DEFAULT_SYNTAX_HINT =
  "Fix the YAML at this position: check the indentation, closing `]`, `}` or quotes, and quote values that contain `: ` or ` #`.";

interface Located {
  /** The node at the path, when it exists. */
  node: Node | null;
  /** The pair whose value is `node`, when reached through a mapping. */
  pair: Pair | undefined;
}

export class YamlTree {
  readonly doc: Document;
  private readonly lines: LineCounter;

  private constructor(doc: Document, lines: LineCounter) {
    this.doc = doc;
    this.lines = lines;
  }

  /** Parses YAML; a syntax error throws E_MANIFEST at the parser's position. */
  static parse(text: string, file: string): YamlTree {
    const lines = new LineCounter();
    const doc = parseDocument(text, {
      lineCounter: lines,
      keepSourceTokens: true,
      prettyErrors: true,
      version: "1.1",
      uniqueKeys: true,
    });
    const [error] = doc.errors;
    if (error !== undefined) {
      const opened = error.code === "BAD_INDENT" ? unclosedFlowStart(text, error.pos[0]) : undefined;
      const at =
        opened !== undefined ? lines.linePos(opened) : (error.linePos?.[0] ?? lines.linePos(error.pos[0]));
      const message =
        error.code === "MULTIPLE_DOCS"
          ? "This file holds several YAML documents (a mergekit-multi file), where one merge config was expected"
          : `YAML syntax error: ${error.message.split(/ at line \d+, column \d+/)[0] ?? error.message}`;
      throw new HubmergeError("E_MANIFEST", `${message}.`, {
        where: { file, line: at.line, column: at.col },
        hint: SYNTAX_HINTS[error.code] ?? DEFAULT_SYNTAX_HINT,
      });
    }
    return new YamlTree(doc, lines);
  }

  /** The document as plain JS values (aliases expanded, with a limit). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  }

  /** YAML warnings (they never stop parsing). */
  warnings(): { message: string; pos: Pos }[] {
    return this.doc.warnings.map((w) => {
      const at = w.linePos?.[0] ?? this.lines.linePos(w.pos[0]);
      return { message: w.message.split("\n")[0] ?? w.message, pos: { line: at.line, column: at.col } };
    });
  }

  /** Position of the value at `path`; undefined when the path does not exist. */
  locate(path: NodePath): Pos | undefined {
    const found = this.walk(path);
    return found.depth === path.length ? this.valuePos(found.at) : undefined;
  }

  /** Position of the key of the pair at `path`; undefined when there is no such pair. */
  locateKey(path: NodePath): Pos | undefined {
    const found = this.walk(path);
    if (found.depth !== path.length || found.at.pair === undefined) return undefined;
    return this.nodePos(found.at.pair.key);
  }

  /** Position of the deepest existing node along `path` (the document start at worst). */
  nearest(path: NodePath): Pos {
    return this.valuePos(this.walk(path).at) ?? { line: 1, column: 1 };
  }

  /** The scalar's source text, e.g. to read integers beyond 2^53 exactly. */
  sourceText(path: NodePath): string | undefined {
    const found = this.walk(path);
    if (found.depth !== path.length || !isScalar(found.at.node)) return undefined;
    return found.at.node.source;
  }

  private walk(path: NodePath): { at: Located; depth: number } {
    let at: Located = { node: this.doc.contents, pair: undefined };
    let depth = 0;
    for (const segment of path) {
      const next = this.step(at.node, segment);
      if (next === undefined) break;
      at = next;
      depth++;
    }
    return { at, depth };
  }

  private step(from: Node | null, segment: string | number): Located | undefined {
    const node = isAlias(from) ? (from.resolve(this.doc) ?? null) : from;
    if (isMap(node)) {
      // A single `{filter, value}` mapping is read as a one-entry list: index 0 is the mapping.
      if (typeof segment === "number") return segment === 0 ? { node, pair: undefined } : undefined;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (pair === undefined || !isPair(pair)) return undefined;
      return { node: (pair.value as Node | null) ?? null, pair };
    }
    if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | null | undefined;
      return item === undefined ? undefined : { node: item, pair: undefined };
    }
    return undefined;
  }

  /** A value's position; an implicit null (`key:` with nothing after it) points at its key. */
  private valuePos(at: Located): Pos | undefined {
    const { node, pair } = at;
    const implicitNull = node === null || (isScalar(node) && node.value === null && node.source === "");
    if (implicitNull && pair !== undefined) return this.nodePos(pair.key);
    return this.nodePos(node);
  }

  private nodePos(node: unknown): Pos | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return undefined;
    const { line, col } = this.lines.linePos(range[0]);
    return { line, column: col };
  }
}
