/**
 * Dotted paths into config.json (`text_config.num_hidden_layers`, `vision_config.depth`), as
 * mergekit names a module's layer-count key. Only plain objects are walked: a path through a
 * list or a scalar reads as absent.
 */
type Config = Record<string, unknown>;

function isObject(value: unknown): value is Config {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object that holds the path's last key, and that key; undefined when a step is missing. */
export function parentOf(config: Config, path: string): { holder: Config; key: string } | undefined {
  const keys = path.split(".");
  let holder: unknown = config;
  for (const key of keys.slice(0, -1)) {
    holder = isObject(holder) && Object.hasOwn(holder, key) ? holder[key] : undefined;
  }
  return isObject(holder) ? { holder, key: keys[keys.length - 1]! } : undefined;
}

/** The value at `path`, or undefined. */
export function readPath(config: Config, path: string): unknown {
  const at = parentOf(config, path);
  return at && Object.hasOwn(at.holder, at.key) ? at.holder[at.key] : undefined;
}

/** A whole number ≥ 0 at `path`, or undefined. */
export function readCount(config: Config | undefined, path: string): number | undefined {
  const value = config && readPath(config, path);
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Sets `path` in `config` (changed in place), creating the objects on the way. */
export function writePath(config: Config, path: string, value: unknown): void {
  const keys = path.split(".");
  let holder = config;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(holder[key])) holder[key] = {};
    holder = holder[key] as Config;
  }
  holder[keys[keys.length - 1]!] = value;
}
