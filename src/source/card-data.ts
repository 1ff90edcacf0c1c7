/** A model card's metadata: the YAML front matter of README.md. */
import { parse } from "yaml";

const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** The front matter as an object, or undefined when there is none or it is not a YAML mapping. */
export function parseCardData(readme: string): Record<string, unknown> | undefined {
  const match = FRONT_MATTER.exec(readme);
  if (!match) return undefined;
  try {
    const data: unknown = parse(match[1] ?? "", { maxAliasCount: 100 });
    return data !== null && typeof data === "object" && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
