/**
 * `model.safetensors.index.json`: which shard holds which tensor. Untrusted like any header, so
 * its size is capped before reading and every shard name must stay inside the model.
 */
import type { ModelSource } from "../source/model-source.js";
import { checkJsonShape } from "./json-shape.js";
import type { JsonShapeLimits } from "./json-shape.js";
import { describeValue, safetensorsError } from "./safetensors-error.js";

export const SHARD_INDEX_FILE = "model.safetensors.index.json";
export const MAX_SHARD_INDEX_BYTES = 50 * 1024 * 1024;

/** A real index is two levels deep; weight_map may be large, nothing else should be. */
const INDEX_JSON_LIMITS: JsonShapeLimits = {
  maxDepth: 16,
  maxArrayItems: 1024,
  maxRootEntries: 1024,
  maxObjectEntries: 10_000_000,
};

/**
 * transformers' index layout for a shard plan: sorted keys, 2-space indent, a final newline. A
 * function of the plan alone, so the writer and a parts assembly produce the same bytes.
 */
export function encodeShardIndex(plan: {
  files: readonly { file: string; tensors: readonly { name: string }[] }[];
  totalSize: number;
}): Uint8Array {
  const weightMap: [string, string][] = plan.files.flatMap((shard) =>
    shard.tensors.map((tensor): [string, string] => [tensor.name, shard.file]),
  );
  weightMap.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const index = { metadata: { total_size: plan.totalSize }, weight_map: Object.fromEntries(weightMap) };
  return new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`);
}

/** Reads the index of `model` and returns its weight_map (tensor name → shard path). */
export async function readShardIndex(model: ModelSource): Promise<Map<string, string>> {
  const where = `${model.ref}: ${SHARD_INDEX_FILE}`;
  const source = await model.open(SHARD_INDEX_FILE);
  let bytes: Uint8Array;
  try {
    if (source.size > MAX_SHARD_INDEX_BYTES) {
      throw safetensorsError(
        `${where} is ${source.size} bytes, over the limit of ${MAX_SHARD_INDEX_BYTES} bytes`,
      );
    }
    bytes = await source.read(0, source.size);
  } finally {
    await source.close?.();
  }
  return parseShardIndex(bytes, where);
}

/** Validates index JSON: an object whose weight_map maps tensor names to plain relative paths. */
export function parseShardIndex(bytes: Uint8Array, where: string): Map<string, string> {
  const problem = checkJsonShape(bytes, INDEX_JSON_LIMITS);
  if (problem) throw safetensorsError(`${where} is not a plausible index: ${problem}`);
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : String(error);
    throw safetensorsError(`${where} is not valid UTF-8 JSON (${reason})`);
  }
  if (!isPlainObject(index) || !isPlainObject(index.weight_map)) {
    throw safetensorsError(`${where} must be a JSON object with a "weight_map" object`);
  }
  const weightMap = new Map<string, string>();
  for (const [tensor, file] of Object.entries(index.weight_map)) {
    if (typeof file !== "string" || !isPlainRelativePath(file)) {
      throw safetensorsError(
        `${where}: tensor "${tensor}" maps to ${describeValue(file)}, ` +
          `which is not a relative file path inside the model`,
      );
    }
    weightMap.set(tensor, file);
  }
  return weightMap;
}

/** `a.safetensors` or `sub/a.safetensors`: no absolute paths, no `.`/`..`, no backslashes. */
export function isPlainRelativePath(path: string): boolean {
  if (path.length === 0 || path.includes("\\") || path.includes("\0")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
