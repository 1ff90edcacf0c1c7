/**
 * Where an unclosed `{` or `[` opened. The YAML parser notices a missing `}` only where the next
 * block line starts, one or more lines later; the mistake is on the line that opened it.
 */
import { Parser } from "yaml";

/** Offset of the innermost unclosed flow collection that opened before `before`, if any. */
export function unclosedFlowStart(text: string, before: number): number | undefined {
  const starts: number[] = [];
  collect([...new Parser().parse(text)], starts);
  return starts.filter((offset) => offset < before).sort((a, b) => b - a)[0];
}

function collect(node: unknown, out: number[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const token = node as { type?: unknown; offset?: unknown; start?: { source?: unknown }; end?: unknown };
  if (token.type === "flow-collection" && typeof token.offset === "number") {
    const close = token.start?.source === "{" ? "}" : "]";
    const closed =
      Array.isArray(token.end) && token.end.some((t: { source?: unknown }) => t.source === close);
    if (!closed) out.push(token.offset);
  }
  for (const [key, value] of Object.entries(node)) if (key !== "source") collect(value, out);
}
