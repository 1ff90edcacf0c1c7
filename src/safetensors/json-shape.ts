/**
 * A cheap pass over untrusted JSON bytes before JSON.parse sees them. JSON.parse itself copes
 * with any nesting, but the objects it builds can cost many times the input's size (50 million
 * shape entries in a 100 MB header took 6 s and 600 MB), and deep nesting breaks every recursive
 * consumer afterwards. A valid safetensors header is three levels deep with short arrays.
 */

export interface JsonShapeLimits {
  /** Most nested objects/arrays (a valid header needs 3). */
  maxDepth: number;
  /** Most items in any array (the largest tensor rank accepted). */
  maxArrayItems: number;
  /** Most entries in the top-level object. */
  maxRootEntries: number;
  /** Most entries in any nested object (such as `__metadata__`). */
  maxObjectEntries: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * Returns what is wrong with the structure of `json`, or undefined when it is within the limits.
 * Malformed JSON is left for JSON.parse to report.
 */
export function checkJsonShape(json: Uint8Array, limits: JsonShapeLimits): string | undefined {
  // Per open container: the number of commas seen directly inside it, and whether it is an array.
  const commas: number[] = [];
  const isArray: boolean[] = [];
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (commas.length >= limits.maxDepth) return `JSON nested more than ${limits.maxDepth} levels deep`;
      commas.push(0);
      isArray.push(byte === OPEN_ARRAY);
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      commas.pop();
      isArray.pop();
    } else if (byte === COMMA && commas.length > 0) {
      const depth = commas.length - 1;
      const entries = ++commas[depth]! + 1;
      const problem = tooMany(entries, isArray[depth]!, depth, limits);
      if (problem) return problem;
    }
  }
  return undefined;
}

function tooMany(
  entries: number,
  array: boolean,
  depth: number,
  limits: JsonShapeLimits,
): string | undefined {
  if (array) {
    return entries > limits.maxArrayItems
      ? `a JSON array has more than ${limits.maxArrayItems} items`
      : undefined;
  }
  if (depth === 0) {
    const limit = limits.maxRootEntries;
    return entries > limit ? `the top-level object has more than ${limit} entries` : undefined;
  }
  const limit = limits.maxObjectEntries;
  return entries > limit ? `a nested JSON object has more than ${limit} entries` : undefined;
}
