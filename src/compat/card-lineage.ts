/**
 * A LineageLookup built on model cards: follows `base_model` from card to card. The card reader
 * is injected (HubSource.cardData() in the CLI, a table in tests), so this holds no I/O itself.
 */
import type { LineageLookup } from "./lineage.js";

/** A repo's card front matter, or undefined when the repo or its card cannot be read. */
export type CardDataReader = (repo: string) => Promise<Record<string, unknown> | undefined>;

/** Longest chain followed; real chains are a handful of steps, a longer one is likely a loop. */
const MAX_DEPTH = 16;

export function lineageFromCards(readCard: CardDataReader, maxDepth = MAX_DEPTH): LineageLookup {
  return async (repo) => {
    let card = await readCard(repo);
    if (card === undefined) return undefined;
    const chain: string[] = [];
    const seen = new Set([repo.toLowerCase()]);
    for (let depth = 0; depth < maxDepth; depth++) {
      const parent = firstBaseModel(card);
      if (parent === undefined || seen.has(parent.toLowerCase())) break;
      chain.push(parent);
      seen.add(parent.toLowerCase());
      card = await readCard(parent).catch(() => undefined);
      if (card === undefined) break;
    }
    return chain;
  };
}

/** `base_model: org/name` or a list of them (a merge: the first is followed). */
function firstBaseModel(card: Record<string, unknown>): string | undefined {
  const value = card["base_model"];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" && first.trim() !== "" ? first.trim() : undefined;
}
