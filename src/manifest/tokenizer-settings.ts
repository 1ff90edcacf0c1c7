/**
 * One `TokenizerSettings` from `tokenizer_source` or the `tokenizer:` block, as mergekit reads
 * them: the key alone means "this source, no token settings"; the block defaults to `union`.
 */
import { parseModelRef } from "../model-ref.js";
import { manifestError } from "./issues.js";
import type { RawManifest } from "./schema.js";
import type { TokenizerSettings } from "./types.js";
import type { YamlTree } from "./yaml-tree.js";

export function tokenizerSettings(
  raw: Pick<RawManifest, "tokenizer_source" | "tokenizer">,
  tree: YamlTree,
  file: string,
  dir: string,
): TokenizerSettings | undefined {
  if (raw.tokenizer_source !== undefined && raw.tokenizer !== undefined) {
    const pos = tree.locateKey(["tokenizer"]) ?? tree.nearest(["tokenizer"]);
    throw manifestError(
      file,
      pos,
      "The manifest has both `tokenizer_source` and a `tokenizer` block; mergekit accepts one of them.",
      "Move the source into the block (`tokenizer: {source: union}`) and remove `tokenizer_source`.",
    );
  }
  if (raw.tokenizer !== undefined) return { ...raw.tokenizer, key: "tokenizer" };
  const source = raw.tokenizer_source;
  if (source === undefined) return undefined;
  return {
    source: source === "base" || source === "union" ? source : parseModelRef(source, dir),
    tokens: [],
    key: "tokenizer_source",
  };
}
