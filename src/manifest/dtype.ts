/**
 * `dtype` / `out_dtype` names. mergekit itself accepts `float32`, `float16` and `bfloat16`
 * (optionally `torch.`-prefixed); hubmerge also takes the usual aliases and says so in a warning,
 * because such a file would no longer run in mergekit.
 */
import type { OutDType } from "./types.js";

const ALIASES: Readonly<Record<string, OutDType>> = {
  float32: "float32",
  fp32: "float32",
  f32: "float32",
  float: "float32",
  single: "float32",
  float16: "float16",
  fp16: "float16",
  f16: "float16",
  half: "float16",
  bfloat16: "bfloat16",
  bf16: "bfloat16",
};

export const DTYPE_NAMES: readonly OutDType[] = ["float32", "float16", "bfloat16"];

export interface ParsedDType {
  dtype: OutDType;
  /** Whether mergekit accepts the name as written. */
  mergekitName: boolean;
}

export function parseDType(name: string): ParsedDType | undefined {
  const bare = name
    .trim()
    .toLowerCase()
    .replace(/^torch\./, "");
  const dtype = ALIASES[bare];
  if (dtype === undefined) return undefined;
  const mergekitName = name === dtype || name === `torch.${dtype}`;
  return { dtype, mergekitName };
}
