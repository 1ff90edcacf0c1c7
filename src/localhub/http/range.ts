/** The single-range forms of the HTTP Range header: `bytes=a-b`, `bytes=a-`, `bytes=-n`. */

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number /* inclusive */ }
  | { kind: "unsatisfiable" };

/**
 * What to serve of a `size`-byte resource. Headers that are absent, malformed or ask for several
 * ranges are ignored (a full 200 answer), as RFC 9110 allows.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: "full" };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: "full" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}
